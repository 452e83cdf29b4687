// The statistics benchmark's data sets, written straight into an InfluxDB 2.x bucket as muster
// writes them (influx-schema.ts's reportLines), through /api/v2/write: 24 h of reports of a
// 4-GPU node for GetStats, and 7 days of task reports of many workers for the activity report.

import { create } from "@bufbuild/protobuf";
import { samplesOf } from "../../src/core/machine-stats.js";
import { MachineStatsSchema } from "../../src/gen/muster/workers/v1/types_pb.js";
import { reportLines } from "../../src/stats/influx/influx-schema.js";

export interface InfluxBucketTarget {
  readonly url: string;
  readonly org: string;
  readonly bucket: string;
  readonly token: string;
}

/** What a ClearML agent on a 4-GPU node reports: 26 values (proto JSON names). */
export const GPU_NODE = {
  cpuUsage: [37.5],
  cpuTemperature: [61],
  gpuUsage: [98, 97, 99, 12],
  gpuTemperature: [78, 77, 80, 41],
  gpuMemoryUsed: [71000, 70500, 72000, 1200],
  gpuMemoryFree: [10920, 11420, 9920, 80720],
  memoryUsed: 182_000,
  memoryFree: 334_000,
  networkTx: 12.5,
  networkRx: 220.25,
  diskRead: 35,
  diskWrite: 4.5,
  diskFreeHome: 61,
  diskFreeTemp: 88,
};

/** Writes line protocol (ms times) in one request; throws on anything but 204. */
export async function writeLines(
  target: InfluxBucketTarget,
  lines: readonly string[],
): Promise<void> {
  const query = new URLSearchParams({ org: target.org, bucket: target.bucket, precision: "ms" });
  const response = await fetch(`${target.url}/api/v2/write?${query}`, {
    method: "POST",
    headers: {
      authorization: `Token ${target.token}`,
      "content-type": "text/plain; charset=utf-8",
    },
    body: lines.join("\n"),
  });
  if (response.status !== 204) {
    throw new Error(`write answered ${response.status}: ${await response.text()}`);
  }
  await response.arrayBuffer();
}

/**
 * Every worker's reports from `fromMs` to `toMs` every `periodMs` (workers spread over the
 * period, as real ones are), written in batches of about 20,000 lines, two in flight.
 * Resolves to the number of lines written.
 */
export async function preload(
  target: InfluxBucketTarget,
  options: {
    readonly workers: number;
    readonly fromMs: number;
    readonly toMs: number;
    readonly periodMs: number;
    readonly workerName: (index: number) => string;
    readonly linesOf: (worker: string, timeMs: number) => string[];
  },
): Promise<number> {
  const inFlight = new Set<Promise<void>>();
  let batch: string[] = [];
  let written = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    const lines = batch;
    batch = [];
    written += lines.length;
    const done = writeLines(target, lines);
    inFlight.add(done);
    void done.finally(() => inFlight.delete(done)).catch(() => undefined);
    if (inFlight.size >= 2) await Promise.race(inFlight);
  };
  for (let timeMs = options.fromMs; timeMs <= options.toMs; timeMs += options.periodMs) {
    for (let w = 0; w < options.workers; w++) {
      const at = timeMs + ((w * 997) % options.periodMs);
      if (at > options.toMs) continue;
      batch.push(...options.linesOf(options.workerName(w), at));
    }
    if (batch.length >= 20_000) await flush();
  }
  await flush();
  await Promise.all(inFlight);
  return written;
}

/** GetStats's data: `workers` 4-GPU nodes (worker-0 …) reporting every `periodMs` for a day. */
export function loadStatsDay(
  target: InfluxBucketTarget,
  workers: number,
  toMs: number,
  periodMs = 30_000,
  company = "default",
): Promise<number> {
  const samples = samplesOf(create(MachineStatsSchema, GPU_NODE));
  return preload(target, {
    workers,
    fromMs: toMs - 24 * 3_600_000,
    toMs,
    periodMs,
    workerName: (i) => `worker-${i}`,
    linesOf: (worker, timeMs) => reportLines({ company, worker, task: "task-1", timeMs, samples }),
  });
}

/** The activity report's data: `workers` (a-worker-0 …) reporting every `periodMs` for a week. */
export function loadActivityWeek(
  target: InfluxBucketTarget,
  workers: number,
  toMs: number,
  periodMs: number,
  company = "default",
): Promise<number> {
  return preload(target, {
    workers,
    fromMs: toMs - 7 * 24 * 3_600_000,
    toMs,
    periodMs,
    workerName: (i) => `a-worker-${i}`,
    linesOf: (worker, timeMs) =>
      reportLines({
        company,
        worker,
        task: timeMs % 7 === 0 ? undefined : "t",
        timeMs,
        samples: [],
      }),
  });
}
