// What the memory stats store really costs (issue 9, defects 4 and 5): heap after a full GC before
// and after N samples across M series, for three fleet shapes, and whether the heap comes back
// once every sample has aged out. No server: the store alone, with a clock moved by hand.
// Run: npm run bench:build && node --expose-gc dist-bench/bench/memory-stats-cost.js

import type { Clock } from "../src/core/clock.js";
import type { Sample } from "../src/core/machine-stats.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";

const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) {
  console.error("run with node --expose-gc");
  process.exit(2);
}

class HandClock implements Clock {
  ms = Date.UTC(2026, 0, 1);
  now(): number {
    return this.ms;
  }
}

/** V8 heap used plus ArrayBuffers (the eviction queue is an Int32Array, outside the heap). */
function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc?.();
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

interface Shape {
  readonly name: string;
  readonly workers: number;
  /** Samples in each report, one series each; the activity point is one more series. */
  readonly valuesPerReport: number;
  readonly reportsPerWorker: number;
}

const SHAPES: readonly Shape[] = [
  // Per-series cost: many series holding one sample each.
  { name: "per series (1 sample each)", workers: 20_000, valuesPerReport: 9, reportsPerWorker: 1 },
  // Per-sample cost: few series, long.
  { name: "per sample (long series)", workers: 10, valuesPerReport: 9, reportsPerWorker: 50_000 },
  // A 4-GPU node's full report (26 values), every 30 s for about 2 h, 1,000 nodes.
  { name: "fleet (26 values/report)", workers: 1_000, valuesPerReport: 26, reportsPerWorker: 240 },
];

function samplesFor(count: number, tick: number): Sample[] {
  const samples: Sample[] = [];
  for (let i = 0; i < count; i++) {
    samples.push({ category: "gpu", metric: `m${i % 5}`, variant: String(i), value: tick + i });
  }
  return samples;
}

async function measure(shape: Shape): Promise<void> {
  const clock = new HandClock();
  const retentionMs = 3_600_000 * 24;
  const store = new MemoryStatsStore(clock, {
    retentionMs,
    maxSamples: 1e9,
    maxSeries: 1e9,
  });
  const before = heapAfterGc();
  const start = clock.ms;
  for (let r = 0; r < shape.reportsPerWorker; r++) {
    for (let w = 0; w < shape.workers; w++) {
      await store.record({
        company: "c",
        worker: `worker-${w}`,
        task: undefined,
        timeMs: start + r * 30_000,
        samples: samplesFor(shape.valuesPerReport, r),
      });
    }
  }
  clock.ms = start + shape.reportsPerWorker * 30_000;
  const after = heapAfterGc();
  const samples = store.sampleCount;
  const series = store.seriesCount;
  const bytes = after - before;
  // Every sample ages out; the heap should come back to where it started.
  clock.ms += retentionMs + 60_000;
  store.sweep();
  const drained = heapAfterGc();
  console.log(
    [
      shape.name.padEnd(28),
      `${series.toLocaleString("en")} series`.padStart(16),
      `${samples.toLocaleString("en")} samples`.padStart(20),
      `${(bytes / 1e6).toFixed(1)} MB`.padStart(10),
      `${(bytes / samples).toFixed(1)} B/sample`.padStart(14),
      `${(bytes / series).toFixed(0)} B/series`.padStart(14),
      `after age-out: +${((drained - before) / 1e6).toFixed(2)} MB, ${store.workerCount} workers, ${store.seriesCount} series held`,
    ].join(" "),
  );
  await store.close();
}

console.log(
  `node ${process.version}, heap used plus ArrayBuffers after full GC, before and after the load`,
);
for (const shape of SHAPES) await measure(shape);
