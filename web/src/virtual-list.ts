// A list that keeps only the rows in view (plus a few) in the DOM, so 10,000 workers cost as much
// as 40: rows are pooled elements moved into place and refilled on scroll or when the data changes.

export interface VirtualListOptions<T> {
  readonly viewport: HTMLElement;
  readonly rowHeight: number;
  /** Builds an empty row element; called only when the pool grows. */
  readonly createRow: () => HTMLElement;
  /** Fills a pooled row with an item; called for every row in view on each render. */
  readonly renderRow: (row: HTMLElement, item: T, index: number) => void;
  /** Called after each render with the items in view, e.g. to fetch what they show. */
  readonly onRendered?: (visible: readonly T[]) => void;
}

const OVERSCAN = 6;

export class VirtualList<T> {
  private items: readonly T[] = [];
  private readonly pool: HTMLElement[] = [];
  private readonly spacer: HTMLElement;
  private frame: number | undefined;

  constructor(private readonly options: VirtualListOptions<T>) {
    this.spacer = document.createElement("div");
    this.spacer.className = "vl-spacer";
    options.viewport.append(this.spacer);
    options.viewport.addEventListener("scroll", () => this.schedule(), { passive: true });
    new ResizeObserver(() => this.schedule()).observe(options.viewport);
  }

  /** Replaces the items and renders now (callers already batch per frame). */
  setItems(items: readonly T[]): void {
    this.items = items;
    this.spacer.style.height = `${items.length * this.options.rowHeight}px`;
    this.render();
  }

  /** Re-renders the rows in view at the next frame (relative times, fetched sparklines). */
  schedule(): void {
    this.frame ??= requestAnimationFrame(() => {
      this.frame = undefined;
      this.render();
    });
  }

  scrollToTop(): void {
    this.options.viewport.scrollTop = 0;
  }

  private render(): void {
    const { viewport, rowHeight } = this.options;
    const first = Math.max(0, Math.floor(viewport.scrollTop / rowHeight) - OVERSCAN);
    const count = Math.ceil(viewport.clientHeight / rowHeight) + 2 * OVERSCAN;
    const last = Math.min(this.items.length, first + count);
    const visible: T[] = [];
    for (let index = first; index < last; index++) {
      const slot = index - first;
      let row = this.pool[slot];
      if (row === undefined) {
        row = this.options.createRow();
        row.style.position = "absolute";
        row.style.left = "0";
        row.style.right = "0";
        row.style.height = `${rowHeight}px`;
        this.pool.push(row);
        this.spacer.append(row);
      }
      const item = this.items[index] as T;
      row.style.transform = `translateY(${index * rowHeight}px)`;
      this.options.renderRow(row, item, index);
      visible.push(item);
    }
    // Rows beyond the items leave the DOM, so nothing stale (an old worker's row) lingers there.
    for (const row of this.pool.splice(Math.max(0, last - first))) row.remove();
    this.options.onRendered?.(visible);
  }
}
