// Stats benchmark (issues 4 and 10): status_report carrying a 4-GPU node's full machine stats
// through muster with InfluxDB 2.7 + NATS, next to the memory stores, over gRPC (ghz) and the
// ClearML HTTP path (wrk); then, on InfluxDB, GetStats for 1 and for 100 workers over 24 h of
// 30-second reports at a 60-second interval, and GetActivityReport over 7 days of 1,000 workers at
// a 1-hour interval, each asked of a muster querying in Flux and of one querying in InfluxQL, on
// the same bucket.
// Run: npm run bench:stats   (BENCH_STATS_WORKERS, BENCH_ACTIVITY_WORKERS, BENCH_ACTIVITY_PERIOD s,
// BENCH_SKIP_THROUGHPUT=1 for the queries alone)

import { startInfluxd } from "../test/harness/influxd.js";
import { startNatsServer } from "../test/harness/nats-server.js";
import { ghz, type LoadResult } from "./lib/ghz.js";
import { GPU_NODE as gpuNode, loadActivityWeek, loadStatsDay } from "./lib/influx-dataset.js";
import { startMusterProcess } from "./lib/process.js";
import {
  logLoad as log,
  measureStatusReports,
  printComparison,
  type StatusReportResults,
} from "./lib/status-reports.js";

const METHOD = (name: string) => `muster.workers.v1.WorkersService/${name}`;
const STATS_WORKERS = Number(process.env.BENCH_STATS_WORKERS ?? 100);
const ACTIVITY_WORKERS = Number(process.env.BENCH_ACTIVITY_WORKERS ?? 1000);
const REPORT_PERIOD_S = Number(process.env.BENCH_REPORT_PERIOD ?? 30);
// The activity report at 1 h reads the hourly rollup (the same whatever the period) and the
// reports of the partial last hour; 600 s keeps the load to 2 million lines instead of 40.
const ACTIVITY_PERIOD_S = Number(process.env.BENCH_ACTIVITY_PERIOD ?? 600);
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const gpuNodeSnake = {
  cpu_usage: gpuNode.cpuUsage,
  cpu_temperature: gpuNode.cpuTemperature,
  gpu_usage: gpuNode.gpuUsage,
  gpu_temperature: gpuNode.gpuTemperature,
  gpu_memory_used: gpuNode.gpuMemoryUsed,
  gpu_memory_free: gpuNode.gpuMemoryFree,
  memory_used: gpuNode.memoryUsed,
  memory_free: gpuNode.memoryFree,
  network_tx: gpuNode.networkTx,
  network_rx: gpuNode.networkRx,
  disk_read: gpuNode.diskRead,
  disk_write: gpuNode.diskWrite,
  disk_free_home: gpuNode.diskFreeHome,
  disk_free_temp: gpuNode.diskFreeTemp,
};

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const influx = await startInfluxd();
  try {
    const production = (bucket: string, query: "flux" | "influxql") => [
      ...["--presence", "nats", "--nats-url", nats.url, "--nats-bucket", `bench_${Date.now()}`],
      ...["--stats", "influx", "--influx-url", influx.url, "--influx-org", influx.org],
      ...["--influx-bucket", bucket, "--influx-token", influx.token, "--influx-query", query],
    ];
    const throughput: Record<string, StatusReportResults> = {};
    if (process.env.BENCH_SKIP_THROUGHPUT !== "1") {
      for (const [name, flags] of [
        ["memory", [] as string[]],
        ["influx+nats", production(`reports_${Date.now()}`, "flux")],
      ] as const) {
        const muster = await startMusterProcess(flags);
        try {
          const { grpc, http } = await measureStatusReports(muster, {
            task: "task-1",
            grpcStats: gpuNode,
            httpStats: gpuNodeSnake,
          });
          throughput[name] = { grpc, http };
          log(name, "status_report gRPC", grpc);
          log(name, "status_report HTTP", http);
        } finally {
          await muster.stop();
        }
      }
    }

    // Query latency: data written straight into the onboarded bucket as muster writes it.
    const target = influx;
    const now = Date.now();
    let t = Date.now();
    const statsLines = await loadStatsDay(target, STATS_WORKERS, now, REPORT_PERIOD_S * 1000);
    console.log(
      `preloaded ${statsLines} lines (${STATS_WORKERS} workers, 24 h every ${REPORT_PERIOD_S} s) in ${Math.round((Date.now() - t) / 1000)} s`,
    );
    t = Date.now();
    const activityLines = await loadActivityWeek(
      target,
      ACTIVITY_WORKERS,
      now,
      ACTIVITY_PERIOD_S * 1000,
    );
    console.log(
      `preloaded ${activityLines} lines (${ACTIVITY_WORKERS} workers, 7 days every ${ACTIVITY_PERIOD_S} s) in ${Math.round((Date.now() - t) / 1000)} s`,
    );
    const dayStart = now - DAY;
    const statsRequest = (workerIds: string[]) => ({
      workerIds,
      fromDate: Math.floor(dayStart / 1000),
      toDate: Math.floor(now / 1000),
      interval: 60,
      items: [
        { key: "cpu_usage", aggregation: "AGGREGATION_AVG" },
        { key: "gpu_usage", aggregation: "AGGREGATION_AVG" },
        { key: "gpu_usage", aggregation: "AGGREGATION_MAX" },
        { key: "memory_used", aggregation: "AGGREGATION_AVG" },
      ],
    });
    const weekStart = now - 7 * DAY;
    const queries: [string, string, object, number][] = [
      ["GetStats, 1 worker, 24 h at 60 s", "GetStats", statsRequest(["worker-0"]), 20],
      [
        `GetStats, ${STATS_WORKERS} workers, 24 h at 60 s`,
        "GetStats",
        statsRequest(Array.from({ length: STATS_WORKERS }, (_, i) => `worker-${i}`)),
        5,
      ],
      [
        `GetActivityReport, ${ACTIVITY_WORKERS} workers, 7 days at 1 h`,
        "GetActivityReport",
        // Whole seconds, inclusive: both ends fall inside an hour, as through the API they do.
        { fromDate: Math.floor(weekStart / 1000), toDate: Math.floor(now / 1000), interval: 3600 },
        10,
      ],
    ];
    const latency = new Map<string, Record<string, LoadResult>>();
    for (const language of ["flux", "influxql"] as const) {
      const muster = await startMusterProcess(production(influx.bucket, language));
      try {
        for (const [label, method, data, requests] of queries) {
          const result = await ghz({
            address: muster.address,
            method: METHOD(method),
            data,
            concurrency: 1,
            requests,
            timeout: "180s",
          });
          log(language, label, result);
          latency.set(label, { ...latency.get(label), [language]: result });
        }
      } finally {
        await muster.stop();
      }
    }

    const { memory, "influx+nats": production_ } = throughput;
    if (memory && production_) {
      printComparison(
        "status_report, 4-GPU stats",
        ["memory", memory],
        ["influx+nats", production_],
      );
    }
    console.log("\n| query on InfluxDB 2.7 | Flux p50 / p90 | InfluxQL p50 / p90 |");
    console.log("|---|---|---|");
    for (const [label, results] of latency) {
      const cell = (r: LoadResult | undefined) =>
        r === undefined
          ? "-"
          : `${r.p50Ms} / ${r.p90Ms} ms${r.errors > 0 ? ` (${r.errors} errors)` : ""}`;
      console.log(`| ${label} | ${cell(results.flux)} | ${cell(results.influxql)} |`);
    }
  } finally {
    await Promise.all([nats.close(), influx.close()]);
  }
}

await main();
