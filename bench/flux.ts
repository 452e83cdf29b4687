// Flux vs InfluxQL on one influxd 2.7 (issue 10): GetStats for 1 and 100 workers over 24 h of
// 30-second reports at 60 s (split by variant and not), and the activity report for 1,000
// workers over 7 days at 1 h; each answered by muster's Flux reader, by variants of the Flux
// pipeline (to see what pushes down), and by InfluxQL through the v1 /query. Where the time goes:
// the same Flux counted on the server (no transfer), streamed as CSV lines (no parse), and parsed.
// Run: npm run bench:build && node dist-bench/bench/flux.js   (BENCH_RUNS=5, BENCH_ACTIVITY_PERIOD=600)

import { InfluxDB } from "@influxdata/influxdb-client";
import { bucketRange } from "../src/core/buckets.js";
import type { StatsQuery } from "../src/core/stats-store.js";
import { Aggregation } from "../src/gen/muster/workers/v1/types_pb.js";
import { statsFlux } from "../src/stats/influx/flux.js";
import { FluxReader } from "../src/stats/influx/flux-reader.js";
import { type ActivitySources, planActivity } from "../src/stats/influx/influx-activity.js";
import { startInfluxd } from "../test/harness/influxd.js";
import { loadActivityWeek, loadStatsDay } from "./lib/influx-dataset.js";

const STATS_WORKERS = Number(process.env.BENCH_STATS_WORKERS ?? 100);
const ACTIVITY_WORKERS = Number(process.env.BENCH_ACTIVITY_WORKERS ?? 1000);
const ACTIVITY_PERIOD_S = Number(process.env.BENCH_ACTIVITY_PERIOD ?? 600);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
// Which parts to run (load and query): "stats", "activity" or both (the default).
const PARTS = new Set((process.env.BENCH_PARTS ?? "stats,activity").split(","));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function timed(label: string, run: () => Promise<string>): Promise<void> {
  await run(); // warm-up
  const times: number[] = [];
  let note = "";
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    note = await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)] ?? 0;
  const min = times[0] ?? 0;
  console.log(`| ${label} | ${median.toFixed(0)} ms | ${min.toFixed(0)} ms | ${note} |`);
}

async function main(): Promise<void> {
  const influxd = await startInfluxd();
  try {
    const target = influxd;
    const client = new InfluxDB({ url: influxd.url, token: influxd.token, timeout: 600_000 });
    const queryApi = client.getQueryApi(influxd.org);
    // As the store reads: gzip on.
    const reader = new FluxReader(queryApi.with({ gzip: true }), influxd.bucket);
    const now = Math.floor(Date.now() / 60_000) * 60_000;

    let t = Date.now();
    if (PARTS.has("stats")) {
      const statsLines = await loadStatsDay(target, STATS_WORKERS, now);
      console.log(
        `loaded ${statsLines} lines (${STATS_WORKERS} workers, 24 h) in ${Date.now() - t} ms`,
      );
    }
    if (PARTS.has("activity")) {
      t = Date.now();
      const activityLines = await loadActivityWeek(
        target,
        ACTIVITY_WORKERS,
        now,
        ACTIVITY_PERIOD_S * 1000,
      );
      console.log(
        `loaded ${activityLines} lines (${ACTIVITY_WORKERS} workers, 7 days every ${ACTIVITY_PERIOD_S} s) in ${Date.now() - t} ms`,
      );
    }

    const range = bucketRange(Math.floor((now - DAY) / 1000), Math.floor(now / 1000), 60, 100_000);
    const query = (workers: string[], splitByVariant: boolean): StatsQuery => ({
      company: "default",
      workers,
      range,
      splitByVariant,
      metrics: [
        { metric: "cpu_usage", aggregations: [Aggregation.AVG] },
        { metric: "gpu_usage", aggregations: [Aggregation.AVG, Aggregation.MAX] },
        { metric: "memory_used", aggregations: [Aggregation.AVG] },
      ],
    });
    const all = Array.from({ length: STATS_WORKERS }, (_, i) => `worker-${i}`);
    const countRows = async (rows: AsyncIterable<unknown>) => {
      let n = 0;
      for await (const _ of rows) n++;
      return `${n} rows`;
    };
    const countLines = async (text: string, gzip = false) => {
      let n = 0;
      let bytes = 0;
      for await (const line of queryApi.with({ gzip }).iterateLines(text)) {
        n++;
        bytes += line.length + 1;
      }
      return `${n} CSV lines, ${(bytes / 1e6).toFixed(1)} MB`;
    };
    const v1 = async (q: string) => {
      const form = new URLSearchParams({ db: influxd.bucket, q, epoch: "ms" });
      const response = await fetch(`${influxd.url}/query`, {
        method: "POST",
        headers: { authorization: `Token ${influxd.token}` },
        body: form,
      });
      const text = await response.text();
      const answer = JSON.parse(text) as { results?: { series?: unknown[]; error?: string }[] };
      const error = answer.results?.[0]?.error;
      if (error !== undefined) throw new Error(error);
      return `${answer.results?.[0]?.series?.length ?? 0} series, ${(text.length / 1e6).toFixed(1)} MB JSON`;
    };
    const onServer = (text: string) =>
      text.replace(/\|> yield\(name: ("[a-z]+")\)/g, "|> group() |> count() |> yield(name: $1)");

    console.log("\n| query | median | min | answer |\n|---|---|---|---|");
    for (const split of PARTS.has("stats") ? [true, false] : []) {
      const s = split ? "split" : "not split";
      for (const workers of [["worker-0"], all]) {
        const q = query(workers, split);
        const text = statsFlux(influxd.bucket, q)?.toString() ?? "";
        const label = `GetStats ${workers.length} worker(s) ${s}`;
        await timed(`${label}: Flux reader (rows)`, () => countRows(reader.stats(q)));
        if (workers.length === 1) continue;
        await timed(`${label}: Flux CSV lines only`, () => countLines(text));
        if (split) await timed(`${label}: Flux CSV lines, gzip`, () => countLines(text, true));
        await timed(`${label}: Flux counted on server`, () => countLines(onServer(text)));
      }
    }

    // Pipeline shapes: bench/flux-profile.ts (what pushes down), bench/flux-not-split.ts.
    const lo = Math.ceil(range.fromMs);
    const hi = Math.floor(range.toMs);

    // The same GetStats in InfluxQL through v1 /query (bucket name = database name).
    for (const split of PARTS.has("stats") ? [true, false] : []) {
      for (const workers of [["worker-0"], all]) {
        const where = `"company" = 'default' AND ("metric" = 'cpu_usage' OR "metric" = 'gpu_usage' OR "metric" = 'memory_used') AND (${workers.map((w) => `"worker" = '${w}'`).join(" OR ")}) AND time >= ${lo}ms AND time <= ${hi}ms`;
        const q = `SELECT max("value") AS "max", mean("value") AS "mean" FROM "machine_stats" WHERE ${where} GROUP BY time(60s), "worker", "metric"${split ? ', "variant"' : ""} fill(none)`;
        await timed(
          `GetStats ${workers.length} worker(s) ${split ? "split" : "not split"}: InfluxQL v1`,
          () => v1(q),
        );
      }
    }

    // Activity: 7 days at 1 h, over whole hours and with partial hours at both ends.
    const sources: ActivitySources = { reports: '"activity"', rollup: '"activity_1h"' };
    const weekEnd = Math.floor(now / HOUR) * HOUR - 1;
    if (!PARTS.has("activity")) return;
    for (const [label, fromMs, toMs] of [
      ["whole hours", weekEnd + 1 - 7 * DAY, weekEnd],
      ["partial hours at both ends", now - 7 * DAY + 60_000, now - 60_000],
    ] as const) {
      const r = bucketRange(Math.floor(fromMs / 1000), Math.floor(toMs / 1000), 3600, 100_000);
      const aq = { company: "default", range: { ...r, fromMs, toMs } };
      await timed(`Activity ${ACTIVITY_WORKERS} workers, 7 d at 1 h, ${label}: Flux reader`, () =>
        countRows(reader.activity(aq)),
      );
      const plan = planActivity(sources, "default", aq.range);
      await timed(
        `Activity ${ACTIVITY_WORKERS} workers, 7 d at 1 h, ${label}: InfluxQL v1`,
        async () => {
          const form = new URLSearchParams({
            db: influxd.bucket,
            q: plan.text ?? "",
            epoch: "ms",
            params: JSON.stringify(plan.params),
          });
          const response = await fetch(`${influxd.url}/query`, {
            method: "POST",
            headers: { authorization: `Token ${influxd.token}` },
            body: form,
          });
          const answer = (await response.json()) as { results: Parameters<typeof plan.read>[0] };
          const activity = plan.read(answer.results);
          return `${activity.length} buckets with reports`;
        },
      );
    }
    // Activity at 4 h from the reports' rollup path (union of rollup and edges).
    const r4 = bucketRange(
      Math.floor((now - 7 * DAY + 60_000) / 1000),
      Math.floor(now / 1000),
      4 * 3600,
      100_000,
    );
    await timed(`Activity ${ACTIVITY_WORKERS} workers, 7 d at 4 h, partial ends: Flux reader`, () =>
      countRows(reader.activity({ company: "default", range: r4 })),
    );
    const r10 = bucketRange(
      Math.floor((now - 7 * DAY) / 1000),
      Math.floor(now / 1000),
      600,
      100_000,
    );
    await timed(`Activity ${ACTIVITY_WORKERS} workers, 7 d at 10 min (reports): Flux reader`, () =>
      countRows(reader.activity({ company: "default", range: r10 })),
    );
  } finally {
    await influxd.close();
  }
}

await main();
