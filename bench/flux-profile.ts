// Which Flux pipeline shapes InfluxDB 2.7 pushes down to storage: each shape runs with Flux's
// operator profiler, whose table names the physical operators (ReadWindowAggregateByTime and
// ReadGroupAggregate are pushdowns; ReadRange followed by window/aggregate operators is not).
// Run: npm run bench:build && node dist-bench/bench/flux-profile.js

import { InfluxDB } from "@influxdata/influxdb-client";
import { bucketRange } from "../src/core/buckets.js";
import { Aggregation } from "../src/gen/muster/workers/v1/types_pb.js";
import { activityFlux, statsFlux } from "../src/stats/influx/flux.js";
import { startInfluxd } from "../test/harness/influxd.js";
import { loadActivityWeek, loadStatsDay } from "./lib/influx-dataset.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function main(): Promise<void> {
  const influxd = await startInfluxd();
  try {
    const queryApi = new InfluxDB({ url: influxd.url, token: influxd.token }).getQueryApi(
      influxd.org,
    );
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    await loadStatsDay(influxd, 3, now, 300_000);
    await loadActivityWeek(influxd, 3, now, 1_800_000);
    const range = bucketRange(Math.floor((now - DAY) / 1000), Math.floor(now / 1000), 60, 100_000);
    const stats = (split: boolean) =>
      statsFlux(influxd.bucket, {
        company: "default",
        workers: ["worker-0", "worker-1"],
        range,
        splitByVariant: split,
        metrics: [{ metric: "gpu_usage", aggregations: [Aggregation.MAX] }],
      })?.toString() ?? "";
    const base = stats(true).split("\n").slice(0, 3).join("\n");
    const aw = (fn: string) =>
      `aggregateWindow(every: 1m, fn: ${fn}, createEmpty: false, timeSrc: "_start")`;
    const activity = (fromMs: number, toMs: number, intervalS: number) =>
      activityFlux(
        influxd.bucket,
        "default",
        bucketRange(Math.floor(fromMs / 1000), Math.floor(toMs / 1000), intervalS, 100_000),
      )?.toString() ?? "";
    const hourEnd = Math.floor(now / HOUR) * HOUR - 1;
    const shapes: [string, string][] = [
      ["muster get_stats, split", stats(true)],
      ["muster get_stats, not split (group before aggregateWindow)", stats(false)],
      [
        "keep before aggregateWindow",
        `${base}\n  |> keep(columns: ["_time", "_value", "worker", "metric", "variant"])\n  |> ${aw("max")}`,
      ],
      [
        "aggregateWindow, timeSrc _stop (default)",
        `${base}\n  |> aggregateWindow(every: 1m, fn: max, createEmpty: false)`,
      ],
      ["aggregateWindow mean", `${base}\n  |> ${aw("mean")}`],
      [
        "aggregateWindow createEmpty: true",
        `${base}\n  |> aggregateWindow(every: 1m, fn: max, timeSrc: "_start")`,
      ],
      ["group() |> max() (no window)", `${base}\n  |> group(columns: ["worker"])\n  |> max()`],
      ["muster activity, 1 h over whole hours", activity(hourEnd + 1 - 7 * DAY, hourEnd, 3600)],
      [
        "muster activity, 1 h with partial hours",
        activity(now - 7 * DAY + 60_000, now - 60_000, 3600),
      ],
      ["muster activity, 10 min (reports)", activity(now - DAY, now, 600)],
    ];
    for (const [label, text] of shapes) {
      const profiled = `import "profiler"\noption profiler.enabledProfilers = ["operator"]\n${text}`;
      const operators = new Map<string, { count: number; ms: number }>();
      for await (const { values, tableMeta } of queryApi.iterateRows(profiled)) {
        const o = tableMeta.toObject(values) as {
          _measurement?: string;
          Type?: string;
          DurationSum?: number;
        };
        if (o._measurement !== "profiler/operator" || o.Type === undefined) continue;
        const entry = operators.get(o.Type) ?? { count: 0, ms: 0 };
        entry.count++;
        entry.ms += (o.DurationSum ?? 0) / 1e6;
        operators.set(o.Type, entry);
      }
      console.log(
        `\n## ${label}\n${[...operators].map(([t, e]) => `- ${t}${e.count > 1 ? ` ×${e.count}` : ""}`).join("\n")}`,
      );
    }
  } finally {
    await influxd.close();
  }
}

await main();
