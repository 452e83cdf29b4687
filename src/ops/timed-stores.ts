/**
 * Store wrappers that time every operation the service calls and count the failures, labelled
 * with the backend, so every backend is measured the same way without code of its own.
 */
import type { PresenceStore } from "../core/presence-store.js";
import type { StatsStore } from "../core/stats-store.js";
import type { MusterMetrics } from "./metrics.js";

type Observe = (operation: string, seconds: number, failed: boolean) => void;

async function timed<T>(observe: Observe, operation: string, run: () => Promise<T>): Promise<T> {
  const started = performance.now();
  let failed = true;
  try {
    const result = await run();
    failed = false;
    return result;
  } finally {
    observe(operation, (performance.now() - started) / 1000, failed);
  }
}

/** A query's time is until its last row is read. */
async function* timedRows<T>(
  observe: Observe,
  operation: string,
  rows: () => AsyncIterable<T>,
): AsyncGenerator<T> {
  const started = performance.now();
  let failed = true;
  try {
    yield* rows();
    failed = false;
  } finally {
    observe(operation, (performance.now() - started) / 1000, failed);
  }
}

export function timedPresence(store: PresenceStore, metrics: MusterMetrics): PresenceStore {
  const observe: Observe = (operation, seconds, failed) =>
    metrics.storeOperation("presence", store.backend, operation, seconds, failed);
  return {
    backend: store.backend,
    update: (key, change) => timed(observe, "update", () => store.update(key, change)),
    remove: (key) => timed(observe, "remove", () => store.remove(key)),
    list: (company) => timed(observe, "list", () => store.list(company)),
    count: (company) => timed(observe, "count", () => store.count(company)),
    watch: (company, listener) => timed(observe, "watch", () => store.watch(company, listener)),
    close: () => store.close(),
    ready: () => store.ready(),
    liveCount: () => store.liveCount(),
  };
}

export function timedStats(store: StatsStore, metrics: MusterMetrics): StatsStore {
  const observe: Observe = (operation, seconds, failed) =>
    metrics.storeOperation("stats", store.backend, operation, seconds, failed);
  return {
    backend: store.backend,
    record: (report) => timed(observe, "record", () => store.record(report)),
    stats: (query) => timedRows(observe, "stats", () => store.stats(query)),
    activity: (query) => timedRows(observe, "activity", () => store.activity(query)),
    metricKeys: (company, workers) =>
      timed(observe, "metric_keys", () => store.metricKeys(company, workers)),
    close: () => store.close(),
    ready: () => store.ready(),
  };
}
