// get_stats not split by variant: grouping the variants before aggregateWindow (no pushdown) vs
// windowing each series in storage (pushed down) and merging the variants' window aggregates in
// Flux (max of maxes; Σsum / Σcount for the mean). Times both on the same data, checks they agree.
// Run: npm run bench:build && node dist-bench/bench/flux-not-split.js   (BENCH_STATS_WORKERS=20)

import { InfluxDB } from "@influxdata/influxdb-client";
import { startInfluxd } from "../test/harness/influxd.js";
import { loadStatsDay } from "./lib/influx-dataset.js";

const WORKERS = Number(process.env.BENCH_STATS_WORKERS ?? 20);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const DAY = 86_400_000;

async function main(): Promise<void> {
  const influxd = await startInfluxd();
  try {
    const queryApi = new InfluxDB({
      url: influxd.url,
      token: influxd.token,
      timeout: 600_000,
    }).getQueryApi(influxd.org);
    const now = Math.floor(Date.now() / 60_000) * 60_000;
    await loadStatsDay(influxd, WORKERS, now);
    const workers = Array.from({ length: WORKERS }, (_, i) => `r.worker == "worker-${i}"`);
    const base = `from(bucket: "${influxd.bucket}")
  |> range(start: ${new Date(now - DAY).toISOString()}, stop: ${new Date(now + 1).toISOString()})
  |> filter(fn: (r) => r._measurement == "machine_stats" and r._field == "value" and r.company == "default" and r.metric == "gpu_usage" and (${workers.join(" or ")}))`;
    const aw = (fn: string) =>
      `aggregateWindow(every: 1m, fn: ${fn}, createEmpty: false, timeSrc: "_start")`;
    const keep = `keep(columns: ["_time", "_value", "worker", "metric"])`;
    const shapes: Record<string, string> = {
      "max, group then aggregateWindow": `${base}\n  |> group(columns: ["worker", "metric"])\n  |> ${aw("max")}\n  |> ${keep}`,
      "max, aggregateWindow (pushed down) then group, aggregateWindow": `${base}\n  |> ${aw("max")}\n  |> group(columns: ["worker", "metric"])\n  |> ${aw("max")}\n  |> ${keep}`,
      "max, group, keep, then aggregateWindow": `${base}\n  |> group(columns: ["worker", "metric"])\n  |> keep(columns: ["_start", "_stop", "_time", "_value", "worker", "metric"])\n  |> ${aw("max")}`,
      "max, pushed down, keep, group, aggregateWindow": `${base}\n  |> ${aw("max")}\n  |> keep(columns: ["_start", "_stop", "_time", "_value", "worker", "metric"])\n  |> group(columns: ["worker", "metric"])\n  |> ${aw("max")}`,
      "max, pushed down, group by time, max": `${base}\n  |> ${aw("max")}\n  |> group(columns: ["worker", "metric", "_time"])\n  |> max()\n  |> group(columns: ["worker", "metric"])\n  |> ${keep}`,
      "max, group, sort by time, aggregateWindow": `${base}\n  |> group(columns: ["worker", "metric"])\n  |> sort(columns: ["_time"])\n  |> ${aw("max")}\n  |> ${keep}`,
      "max, pushed down, group, sort by time, aggregateWindow": `${base}\n  |> ${aw("max")}\n  |> group(columns: ["worker", "metric"])\n  |> sort(columns: ["_time"])\n  |> ${aw("max")}\n  |> ${keep}`,
      "mean, group then aggregateWindow": `${base}\n  |> group(columns: ["worker", "metric"])\n  |> ${aw("mean")}\n  |> ${keep}`,
      "mean, sum and count pushed down, merged": `sums = ${base}\n  |> ${aw("sum")}\n  |> group(columns: ["worker", "metric"])\n  |> ${aw("sum")}\n  |> set(key: "_field", value: "sum")
counts = ${base}\n  |> ${aw("count")}\n  |> toFloat()\n  |> group(columns: ["worker", "metric"])\n  |> ${aw("sum")}\n  |> set(key: "_field", value: "count")
union(tables: [sums, counts])
  |> pivot(rowKey: ["_time"], columnKey: ["_field"], valueColumn: "_value")
  |> map(fn: (r) => ({_time: r._time, worker: r.worker, metric: r.metric, _value: r.sum / r.count}))`,
    };
    const answers: Record<string, Map<string, number>> = {};
    for (const [label, text] of Object.entries(shapes)) {
      const times: number[] = [];
      let answer = new Map<string, number>();
      for (let i = 0; i <= RUNS; i++) {
        const t = performance.now();
        answer = new Map();
        for await (const { values, tableMeta } of queryApi.iterateRows(text)) {
          const o = tableMeta.toObject(values) as { worker: string; _time: string; _value: number };
          answer.set(`${o.worker}|${o._time}`, o._value);
        }
        if (i > 0) times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      answers[label] = answer;
      console.log(
        `| ${WORKERS} workers, ${label} | ${times[Math.floor(times.length / 2)]?.toFixed(0)} ms | ${answer.size} rows |`,
      );
    }
    for (const [a, b] of [
      [
        "max, group then aggregateWindow",
        "max, aggregateWindow (pushed down) then group, aggregateWindow",
      ],
      ["mean, group then aggregateWindow", "mean, sum and count pushed down, merged"],
    ] as const) {
      const x = answers[a] ?? new Map();
      const y = answers[b] ?? new Map();
      const differing = [...x].filter(([k, v]) => Math.abs((y.get(k) ?? Number.NaN) - v) > 1e-9);
      console.log(`${a} vs ${b}: ${x.size} vs ${y.size} rows, ${differing.length} differ`);
    }
  } finally {
    await influxd.close();
  }
}

await main();
