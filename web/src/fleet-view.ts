// The fleet view: counts, filters and a sortable virtual table of every worker, redrawn at most once
// per animation frame however many WatchWorkers events arrive in between.
import { h, setText } from "./dom.js";
import type { FleetRow, FleetStore } from "./fleet-store.js";
import { ago } from "./format.js";
import { drawSpark, type Spark, SparkCache } from "./sparklines.js";
import { VirtualList } from "./virtual-list.js";

export interface View {
  readonly element: HTMLElement;
  destroy(): void;
}

type SortKey = "status" | "id" | "task" | "queues" | "lastSeen";

const COLUMNS: readonly { key: SortKey | undefined; label: string }[] = [
  { key: "status", label: "Status" },
  { key: "id", label: "Worker" },
  { key: "task", label: "Task" },
  { key: "queues", label: "Queues" },
  { key: undefined, label: "Tags" },
  { key: "lastSeen", label: "Last report" },
  { key: undefined, label: "CPU" },
  { key: undefined, label: "GPU" },
];

const ROW_HEIGHT = 40;
const STATUS_RANK = { running: 0, idle: 1, gone: 2 } as const;
const STATUS_TEXT = { running: "running", idle: "idle", gone: "gone" } as const;
const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: "base" });

interface Rendered {
  row: FleetRow | undefined;
  ago: string;
  spark: Spark | undefined;
}

export function fleetView(store: FleetStore): View {
  let sortKey: SortKey = "id";
  let descending = false;
  let text = "";
  let tag = "";
  let queue = "";
  // Worker ids in natural id order, and each id's place in it: the tiebreak of every other sort.
  let idOrder: string[] = [];
  let idRank = new Map<string, number>();
  let facetsAt = 0;

  const count = (id: string, label: string) =>
    h(
      "div",
      { class: "stat" },
      h("span", { class: "stat-value", id }, "0"),
      h("span", { class: "stat-label" }, label),
    );
  const filter = h("input", {
    type: "search",
    id: "fleet-filter",
    placeholder: "Filter by worker, task, queue, tag or IP",
    "aria-label": "Filter workers",
  });
  const tagSelect = h("select", { id: "fleet-tag", "aria-label": "Tag" });
  const queueSelect = h("select", { id: "fleet-queue", "aria-label": "Queue" });
  const shown = h("span", { class: "muted", id: "fleet-shown" });
  const header = h("div", { class: "row head", role: "row" });
  const viewport = h("div", { class: "viewport", id: "fleet-rows", role: "rowgroup" });
  const empty = h("div", { class: "empty", hidden: true });

  for (const column of COLUMNS) {
    const cell =
      column.key === undefined
        ? h("span", { class: "cell", role: "columnheader" }, column.label)
        : h(
            "button",
            { class: "cell sort", role: "columnheader", "data-sort": column.key, type: "button" },
            column.label,
          );
    const key = column.key;
    if (key !== undefined) {
      cell.addEventListener("click", () => {
        if (sortKey === key) descending = !descending;
        else {
          sortKey = key;
          descending = key === "lastSeen";
        }
        refresh(true);
      });
    }
    header.append(cell);
  }

  const sparks = new SparkCache(() => list.schedule());
  const list = new VirtualList<FleetRow>({
    viewport,
    rowHeight: ROW_HEIGHT,
    createRow,
    renderRow,
    onRendered: (visible) =>
      sparks.want(visible.filter((r) => r.status !== "gone").map((r) => r.id)),
  });
  const rendered = new WeakMap<HTMLElement, Rendered>();

  const element = h(
    "section",
    { class: "view fleet" },
    h(
      "div",
      { class: "stats" },
      count("count-registered", "registered"),
      count("count-running", "running a task"),
      count("count-idle", "idle"),
    ),
    h("div", { class: "toolbar" }, filter, tagSelect, queueSelect, shown),
    h("div", { class: "table", role: "table", "aria-label": "Workers" }, header, viewport, empty),
  );

  filter.addEventListener("input", () => {
    text = filter.value.trim().toLowerCase();
    refresh(false);
  });
  tagSelect.addEventListener("change", () => {
    tag = tagSelect.value;
    refresh(false);
  });
  queueSelect.addEventListener("change", () => {
    queue = queueSelect.value;
    refresh(false);
  });

  const unsubscribe = store.subscribe((membership) => refresh(membership));
  // Relative times ("12 s ago") move on even when nothing is reported.
  const ticker = setInterval(() => list.schedule(), 1000);
  refresh(true);

  function refresh(membership: boolean): void {
    if (membership || idOrder.length !== store.size) {
      idOrder = [...store.all()]
        .sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0))
        .map((r) => r.id);
      idRank = new Map(idOrder.map((id, i) => [id, i]));
    }
    const rows: FleetRow[] = [];
    for (const id of idOrder) {
      const row = store.get(id);
      if (row !== undefined && matches(row)) rows.push(row);
    }
    if (sortKey !== "id") rows.sort(compare);
    else if (descending) rows.reverse();
    list.setItems(rows);

    const counts = store.counts();
    setText(byIdIn(element, "count-registered"), String(counts.registered));
    setText(byIdIn(element, "count-running"), String(counts.running));
    setText(byIdIn(element, "count-idle"), String(counts.idle));
    const live = counts.registered;
    setText(
      shown,
      rows.length === store.size ? `${live} workers` : `showing ${rows.length} of ${live}`,
    );
    empty.hidden = rows.length > 0;
    setText(
      empty,
      store.size === 0
        ? "No workers yet: they appear here as soon as they register."
        : "No worker matches the filter.",
    );
    for (const button of header.querySelectorAll<HTMLElement>("[data-sort]")) {
      const active = button.dataset.sort === sortKey;
      button.classList.toggle("sorted", active);
      button.setAttribute("aria-sort", active ? (descending ? "descending" : "ascending") : "none");
    }
    const now = Date.now();
    if (membership || now - facetsAt > 1000) {
      facetsAt = now;
      const facets = store.facets();
      fillSelect(tagSelect, "All tags", facets.tags, tag);
      fillSelect(queueSelect, "All queues", facets.queues, queue);
    }
  }

  function matches(row: FleetRow): boolean {
    if (text !== "" && !row.haystack.includes(text)) return false;
    if (tag !== "" && !row.worker.tags.includes(tag)) return false;
    if (queue !== "" && !row.queueLabels.includes(queue)) return false;
    return true;
  }

  function compare(a: FleetRow, b: FleetRow): number {
    let order = 0;
    switch (sortKey) {
      case "status":
        order = STATUS_RANK[a.status] - STATUS_RANK[b.status];
        break;
      case "task":
        order = a.taskLabel === b.taskLabel ? 0 : collator.compare(a.taskLabel, b.taskLabel);
        break;
      case "queues":
        order = collator.compare(a.queueLabels.join(","), b.queueLabels.join(","));
        break;
      case "lastSeen":
        order = (a.lastSeenMs ?? 0) - (b.lastSeenMs ?? 0);
        break;
      default:
        break;
    }
    if (descending) order = -order;
    return order !== 0 ? order : (idRank.get(a.id) ?? 0) - (idRank.get(b.id) ?? 0);
  }

  function renderRow(el: HTMLElement, row: FleetRow): void {
    const now = Date.now();
    const seen = ago(row.lastSeenMs, now);
    const spark = sparks.get(row.id);
    const before = rendered.get(el);
    if (before?.row === row && before.ago === seen && before.spark === spark) return;
    const cells = el.children;
    if (before?.row !== row) {
      el.dataset.workerId = row.id;
      el.setAttribute("href", `#/worker/${encodeURIComponent(row.id)}`);
      el.className = `row ${row.status}`;
      if (row.goneAt !== undefined) {
        el.style.animation = `fade-out ${row.fadeMs}ms linear forwards`;
        el.style.animationDelay = `${row.goneAt - now}ms`;
      } else {
        el.style.animation = "";
      }
      const status = cells[0] as HTMLElement;
      setText(status.lastChild as HTMLElement, STATUS_TEXT[row.status]);
      setText(cells[1] as HTMLElement, row.id);
      setText(cells[2] as HTMLElement, row.taskLabel || "—");
      setText(cells[3] as HTMLElement, row.queueLabels.join(", ") || "—");
      const tags = cells[4] as HTMLElement;
      tags.replaceChildren(...row.worker.tags.map((t) => h("span", { class: "chip" }, t)));
      (cells[1] as HTMLElement).title =
        row.worker.ip === undefined ? row.id : `${row.id} · ${row.worker.ip}`;
    }
    setText(cells[5] as HTMLElement, seen);
    if (before?.spark !== spark || before?.row?.id !== row.id) {
      drawSpark(cells[6]?.firstChild as HTMLCanvasElement, spark?.cpu ?? [], "#5aa9ff");
      drawSpark(cells[7]?.firstChild as HTMLCanvasElement, spark?.gpu ?? [], "#b48cff");
    }
    rendered.set(el, { row, ago: seen, spark });
  }

  return {
    element,
    destroy() {
      unsubscribe();
      clearInterval(ticker);
    },
  };
}

function createRow(): HTMLElement {
  return h(
    "a",
    { class: "row", role: "row" },
    h("span", { class: "cell status" }, h("i", { class: "dot" }), h("span", {})),
    h("span", { class: "cell id" }),
    h("span", { class: "cell" }),
    h("span", { class: "cell" }),
    h("span", { class: "cell tags" }),
    h("span", { class: "cell muted" }),
    h("span", { class: "cell spark" }, h("canvas", {})),
    h("span", { class: "cell spark" }, h("canvas", {})),
  );
}

function fillSelect(
  select: HTMLSelectElement,
  all: string,
  values: readonly string[],
  chosen: string,
): void {
  const wanted = ["", ...values];
  if (chosen !== "" && !values.includes(chosen)) wanted.push(chosen);
  const current = [...select.options].map((o) => o.value);
  if (current.length === wanted.length && current.every((v, i) => v === wanted[i])) return;
  select.replaceChildren(...wanted.map((v) => h("option", { value: v }, v === "" ? all : v)));
  select.value = chosen;
}

function byIdIn(root: HTMLElement, id: string): HTMLElement {
  const el = root.querySelector<HTMLElement>(`#${id}`);
  if (el === null) throw new Error(`#${id} is missing from the fleet view`);
  return el;
}
