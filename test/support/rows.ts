import type {
  ActivityQuery,
  StatsQuery,
  StatsRow,
  StatsStore,
} from "../../src/core/stats-store.js";
import type { WorkerStats } from "../../src/gen/muster/workers/v1/types_pb.js";
import {
  type ActivitySeries,
  activitySeriesOf,
  workerStatsOf,
} from "../../src/workers/stats-answers.js";

/** Every item of an async iterable, in order: what a store's rows are compared by in tests. */
export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

/** A stats store's rows in one fixed order, so two stores' answers compare with toEqual. */
export function sortedRows(rows: readonly StatsRow[]): StatsRow[] {
  const key = (r: StatsRow) => [r.worker, r.metric, r.variant ?? "", r.aggregation, r.bucketMs];
  return [...rows].sort((a, b) => {
    const [ka, kb] = [key(a), key(b)];
    for (let i = 0; i < ka.length; i++) {
      const [x, y] = [ka[i] as string | number, kb[i] as string | number];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
}

/** A store's rows shaped as the service answers get_stats. */
export function statsOf(store: StatsStore, query: StatsQuery): Promise<WorkerStats[]> {
  return workerStatsOf(store.stats(query), query.metrics);
}

/** A store's rows shaped as the service answers get_activity_report (every bucket listed). */
export function activityOf(store: StatsStore, query: ActivityQuery): Promise<ActivitySeries> {
  return activitySeriesOf(store.activity(query), query.range);
}
