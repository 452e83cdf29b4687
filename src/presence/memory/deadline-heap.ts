interface Node {
  readonly id: string;
  deadline: number;
  index: number;
}

/**
 * A min-heap of deadlines keyed by id, one node per id: moving a deadline re-sifts that node, so the
 * heap never holds more nodes than there are ids, however often deadlines move.
 */
export class DeadlineHeap {
  private readonly nodes: Node[] = [];
  private readonly byId = new Map<string, Node>();

  /** Nodes held; lets tests check that moved deadlines never add nodes. */
  get size(): number {
    return this.nodes.length;
  }

  set(id: string, deadline: number): void {
    const node = this.byId.get(id);
    if (node === undefined) {
      const added: Node = { id, deadline, index: this.nodes.length };
      this.byId.set(id, added);
      this.nodes.push(added);
      this.siftUp(added.index);
      return;
    }
    node.deadline = deadline;
    this.siftUp(node.index);
    this.siftDown(node.index);
  }

  delete(id: string): void {
    const node = this.byId.get(id);
    if (node === undefined) return;
    this.byId.delete(id);
    const last = this.nodes.pop() as Node;
    if (last === node) return;
    last.index = node.index;
    this.nodes[node.index] = last;
    this.siftUp(last.index);
    this.siftDown(last.index);
  }

  /** Removes and returns the ids whose deadline is at or before `now`, earliest first. */
  popExpired(now: number): string[] {
    const expired: string[] = [];
    for (let top = this.nodes[0]; top !== undefined && top.deadline <= now; top = this.nodes[0]) {
      expired.push(top.id);
      this.delete(top.id);
    }
    return expired;
  }

  private siftUp(index: number): void {
    const node = this.nodes[index] as Node;
    let i = index;
    while (i > 0) {
      const parent = this.nodes[(i - 1) >> 1] as Node;
      if (parent.deadline <= node.deadline) break;
      this.place(parent, i);
      i = (i - 1) >> 1;
    }
    this.place(node, i);
  }

  private siftDown(index: number): void {
    const node = this.nodes[index] as Node;
    const count = this.nodes.length;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= count) break;
      const right = left + 1;
      let child = this.nodes[left] as Node;
      if (right < count && (this.nodes[right] as Node).deadline < child.deadline) {
        child = this.nodes[right] as Node;
      }
      if (child.deadline >= node.deadline) break;
      const childIndex = child.index;
      this.place(child, i);
      i = childIndex;
    }
    this.place(node, i);
  }

  private place(node: Node, index: number): void {
    node.index = index;
    this.nodes[index] = node;
  }
}
