// CPU of turning one status report's machine stats into samples (both stores) and into
// InfluxDB line protocol (the production stats store): a 4-GPU report, timed in a loop. With
// BASELINE=<another build's dist-bench/bench directory>, the same is timed on that build in the
// same process, rounds alternating, so a change can be compared side by side.
// Run: npm run bench:build && node dist-bench/bench/report-lines.js
//      (BASELINE=/path/to/old/checkout/dist-bench/bench node dist-bench/bench/report-lines.js)
import { resolve } from "node:path";
import { create } from "@bufbuild/protobuf";
import { MachineStatsSchema } from "../src/gen/muster/workers/v1/types_pb.js";
import { GPU_NODE } from "./lib/influx-dataset.js";

interface Build {
  readonly label: string;
  readonly samplesOf: (stats: unknown) => unknown[];
  readonly reportLines: (report: unknown) => string[];
}

const ITERATIONS = 200_000;
const ROUNDS = 3;

async function load(label: string, benchDir: string): Promise<Build> {
  const src = resolve(benchDir, "../src");
  const stats = await import(resolve(src, "core/machine-stats.js"));
  const influx = await import(resolve(src, "stats/influx/influx-schema.js"));
  return { label, samplesOf: stats.samplesOf, reportLines: influx.reportLines };
}

/** Microseconds per call of `fn`, after a warm-up. */
function perCall(fn: () => void): number {
  for (let i = 0; i < ITERATIONS / 10; i++) fn();
  const started = performance.now();
  for (let i = 0; i < ITERATIONS; i++) fn();
  return ((performance.now() - started) * 1000) / ITERATIONS;
}

const builds = [await load("this build", import.meta.dirname)];
if (process.env.BASELINE) builds.unshift(await load("baseline", process.env.BASELINE));
const stats = create(MachineStatsSchema, GPU_NODE);
const report = (samples: unknown[]) => ({
  company: "bench",
  worker: "fleet-node-1",
  task: "task-1",
  timeMs: Date.now(),
  samples,
});
console.log(
  `node ${process.version}, ${builds[0]?.samplesOf(stats).length} samples a report, ${ITERATIONS} calls a round`,
);
for (let round = 1; round <= ROUNDS; round++) {
  for (const build of builds) {
    const samples = perCall(() => build.samplesOf(stats));
    const lines = perCall(() => build.reportLines(report(build.samplesOf(stats))));
    console.log(
      `round ${round} ${build.label.padEnd(10)} samplesOf ${samples.toFixed(2)} µs, samplesOf + reportLines ${lines.toFixed(2)} µs`,
    );
  }
}
