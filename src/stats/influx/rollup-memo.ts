import { ROLLUP_MS } from "./influx-schema.js";

/** Workers remembered at most; past it the memo starts over (which costs rewrites, nothing else). */
const DEFAULT_LIMIT = 262_144;

/**
 * Which workers' hourly activity rollup (`activity_1h`) InfluxDB has already accepted from this
 * process, for the hour in question: a worker reports every few seconds, and the rollup only
 * needs the first report of its hour (`seen`) and the first one running a task (`active`).
 * Writing it with every report made a third of the points muster sent, and influxd alone took
 * 11–14 % fewer reports a second (BENCHMARKS.md, bench/influx-schema-cost.ts).
 *
 * Only writes InfluxDB acknowledged are remembered, so a failed write is retried by the next
 * report. Forgetting is always safe: InfluxDB merges the fields of points of the same series and
 * time, so a rewrite changes nothing. What the memo cannot see is a rollup point removed from
 * InfluxDB behind muster's back (a delete, a restore from an older backup) within the hour: the
 * hour's later reports would not write it again.
 */
export class RollupMemo {
  /** company → worker → start of the hour written, plus 1 when `active` was written too. */
  private readonly written = new Map<string, Map<string, number>>();
  private size = 0;

  constructor(private readonly limit = DEFAULT_LIMIT) {}

  /** Whether a report of this worker at timeMs must carry the rollup point. */
  needs(company: string, worker: string, timeMs: number, active: boolean): boolean {
    const known = this.written.get(company)?.get(worker);
    if (known === undefined) return true;
    const hour = hourOf(timeMs);
    if (known === hour + 1) return false;
    return known !== hour || active;
  }

  /** Records that InfluxDB accepted the rollup point of this worker at timeMs. */
  wrote(company: string, worker: string, timeMs: number, active: boolean): void {
    const hour = hourOf(timeMs);
    const known = this.written.get(company)?.get(worker);
    // A write of an earlier hour that finishes late must not replace a later hour's.
    if (known !== undefined && known > hour + 1) return;
    const value = active || known === hour + 1 ? hour + 1 : hour;
    if (known === undefined && this.size >= this.limit) {
      this.written.clear();
      this.size = 0;
    }
    let byWorker = this.written.get(company);
    if (byWorker === undefined) {
      byWorker = new Map();
      this.written.set(company, byWorker);
    }
    if (!byWorker.has(worker)) this.size++;
    byWorker.set(worker, value);
  }

  /** Workers remembered. */
  get count(): number {
    return this.size;
  }
}

function hourOf(timeMs: number): number {
  return Math.floor(timeMs / ROLLUP_MS) * ROLLUP_MS;
}
