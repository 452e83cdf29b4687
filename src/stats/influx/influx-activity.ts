import type { BucketRange } from "../../core/buckets.js";
import type { ActivityRow } from "../../core/stats-store.js";
import type { StatementResult } from "./influx-http.js";
import { ROLLUP_MS } from "./influx-schema.js";
import { durationLiteral, Params, timeLiteral } from "./influxql.js";
import { encodeTagValue } from "./line-protocol.js";

/** The measurements an activity report reads, quoted and qualified by retention policy. */
export interface ActivitySources {
  /** One point per report: `active` 1 or 0. */
  readonly reports: string;
  /** One point per worker and hour: `seen` 1, `active` 1 when any report ran a task. */
  readonly rollup: string;
}

/** The InfluxQL of an activity report (several `;`-separated statements) and how to read it. */
export interface ActivityPlan {
  /** Undefined when the range holds no millisecond: nothing to ask. */
  readonly text: string | undefined;
  readonly params: Params;
  read(results: readonly StatementResult[]): ActivityRow[];
}

/**
 * Plans an activity report: distinct reporting workers, and of those the task-running ones, per
 * bucket, counted by InfluxDB. At an interval of whole hours, the whole hours of the range come
 * from the hourly rollup; the partial hours at either end (under an hour each) come from the
 * reports, per worker, and are merged with the rollup's workers of the same bucket here, a
 * union of at most two buckets' worker lists. Otherwise every bucket comes from the reports.
 */
export function planActivity(
  sources: ActivitySources,
  company: string,
  range: BucketRange,
): ActivityPlan {
  const { intervalMs, firstBucketMs, lastBucketMs } = range;
  const count = (lastBucketMs - firstBucketMs) / intervalMs + 1;
  const params = new Params();
  // Samples are whole milliseconds: the range's own ends, as an inclusive integer range.
  const lo = Math.ceil(range.fromMs);
  const hi = Math.floor(range.toMs);
  if (lo > hi) return { text: undefined, params, read: () => [] };

  const company_ = params.bind(encodeTagValue(company));
  const interval = durationLiteral(intervalMs);
  const between = (from: number, to: number) =>
    `"company" = ${company_} AND time >= ${timeLiteral(from)} AND time <= ${timeLiteral(to)}`;
  // Inner: one row per worker and bucket (`s` set when seen, `a` 1 when active). Outer: per
  // bucket, how many workers and how many active. The outer range starts at the first bucket's
  // start, where the inner query dates that bucket.
  const perBucket = (source: string, select: string, from: number, to: number) =>
    `SELECT count("s") AS "total", sum("a") AS "active" FROM (SELECT ${select} FROM ${source}` +
    ` WHERE ${between(from, to)} GROUP BY time(${interval}), "worker" fill(none))` +
    ` WHERE time >= ${timeLiteral(firstBucketMs)} AND time <= ${timeLiteral(hi)}` +
    ` GROUP BY time(${interval}) fill(none)`;
  const fromReports = `max("active") AS "s", max("active") AS "a"`;
  const fromRollup = `max("seen") AS "s", max("active") AS "a"`;

  const wholeFrom = Math.ceil(lo / ROLLUP_MS) * ROLLUP_MS;
  const wholeTo = Math.floor((hi + 1) / ROLLUP_MS) * ROLLUP_MS; // exclusive
  if (intervalMs % ROLLUP_MS !== 0 || wholeFrom >= wholeTo) {
    return {
      text: perBucket(sources.reports, fromReports, lo, hi),
      params,
      read: (results) => [...countsOf(results[0]).values()],
    };
  }

  // Buckets are whole hours, so the partial hour before wholeFrom lies in the first bucket and
  // the one from wholeTo in the last. Those buckets are counted from per-worker answers.
  // At an interval of exactly an hour, each worker has at most one rollup point per bucket, with
  // `active` only when it ran a task: plain counts, without the (costlier) per-worker subquery.
  const statements = [
    intervalMs === ROLLUP_MS
      ? `SELECT count("seen") AS "total", count("active") AS "active" FROM ${sources.rollup}` +
        ` WHERE ${between(wholeFrom, wholeTo - 1)} GROUP BY time(${interval}) fill(none)`
      : perBucket(sources.rollup, fromRollup, wholeFrom, wholeTo - 1),
  ];
  const perWorker = (source: string, select: string, from: number, to: number) => {
    statements.push(`SELECT ${select} FROM ${source} WHERE ${between(from, to)} GROUP BY "worker"`);
    return statements.length - 1;
  };
  const edges = new Map<number, number[]>(); // bucket index → statements answering it by worker
  const addEdge = (index: number, statement: number) =>
    edges.set(index, [...(edges.get(index) ?? []), statement]);
  const edgeIndexes = new Set<number>();
  if (lo < wholeFrom) edgeIndexes.add(0);
  if (wholeTo <= hi) edgeIndexes.add(count - 1);
  for (const index of edgeIndexes) {
    const start = firstBucketMs + index * intervalMs;
    const end = start + intervalMs; // exclusive
    if (index === 0 && lo < wholeFrom) {
      addEdge(index, perWorker(sources.reports, fromReports, lo, wholeFrom - 1));
    }
    if (index === count - 1 && wholeTo <= hi) {
      addEdge(index, perWorker(sources.reports, fromReports, wholeTo, hi));
    }
    const rollupFrom = Math.max(start, wholeFrom);
    const rollupTo = Math.min(end, wholeTo);
    if (rollupFrom < rollupTo) {
      addEdge(index, perWorker(sources.rollup, fromRollup, rollupFrom, rollupTo - 1));
    }
  }
  return {
    text: statements.join("; "),
    params,
    read: (results) => {
      const activity = countsOf(results[0]);
      for (const [index, answering] of edges) {
        const workers = new Map<string, boolean>(); // worker → active
        for (const statement of answering) {
          for (const series of results[statement]?.series ?? []) {
            const worker = series.tags?.worker ?? "";
            const column = series.columns.indexOf("a");
            const running = series.values.some((row) => row[column] === 1);
            workers.set(worker, (workers.get(worker) ?? false) || running);
          }
        }
        const bucketMs = firstBucketMs + index * intervalMs;
        const active = [...workers.values()].filter(Boolean).length;
        if (workers.size > 0) activity.set(bucketMs, { bucketMs, total: workers.size, active });
        else activity.delete(bucketMs);
      }
      return [...activity.values()];
    },
  };
}

/** A per-bucket count answer (`time`, `total`, `active` rows) as rows by bucket start. */
function countsOf(result: StatementResult | undefined): Map<number, ActivityRow> {
  const rows = new Map<number, ActivityRow>();
  const series = result?.series?.[0];
  if (series === undefined) return rows;
  const totalColumn = series.columns.indexOf("total");
  const activeColumn = series.columns.indexOf("active");
  for (const row of series.values) {
    const bucketMs = Number(row[0]);
    const total = numberOr0(row[totalColumn]);
    if (total > 0) rows.set(bucketMs, { bucketMs, total, active: numberOr0(row[activeColumn]) });
  }
  return rows;
}

function numberOr0(value: unknown): number {
  return typeof value === "number" ? value : 0;
}
