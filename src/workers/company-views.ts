// get_all's sorted views, one per company, each fed by a watch on the presence store from the
// first get_all of that company on: every store tells its watchers of every change (its own writes
// before they are acknowledged, other instances' through its feed), so the view is the store's
// list, in order, without a sort per call. Records past their deadline may linger until the
// store reports them gone; readers check the deadline.
import type { PresenceEvent, PresenceStore } from "../core/presence-store.js";
import { SortedRecords } from "./sorted-records.js";

export class CompanyViews {
  private readonly views = new Map<string, Promise<SortedRecords>>();

  constructor(private readonly presence: PresenceStore) {}

  /** The company's view, starting its watch on first use. */
  of(company: string): Promise<SortedRecords> {
    let view = this.views.get(company);
    if (view === undefined) {
      view = this.start(company);
      this.views.set(company, view);
      // A watch that failed to start (store unreachable) is retried by the next call.
      view.catch(() => this.views.delete(company));
    }
    return view;
  }

  private async start(company: string): Promise<SortedRecords> {
    const view = new SortedRecords();
    // Events that arrive before the snapshot is in are newer than it: they wait, then apply.
    let pending: PresenceEvent[] | undefined = [];
    const apply = (event: PresenceEvent) => {
      if (event.kind === "left") view.remove(event.record);
      else view.upsert(event.record);
    };
    const watch = await this.presence.watch(company, (event) => {
      if (pending !== undefined) pending.push(event);
      else apply(event);
    });
    for (const record of watch.snapshot) view.upsert(record);
    for (const event of pending) apply(event);
    pending = undefined;
    return view;
  }
}
