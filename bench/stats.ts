// Stats benchmark (issue 4): status_report carrying a 4-GPU node's full machine stats through
// muster with InfluxDB + NATS, next to the memory stores, over gRPC (ghz) and the ClearML HTTP path
// (wrk); then, on InfluxDB, GetStats for 1 and for 100 workers over 24 h of 30-second reports at a
// 60-second interval, and GetActivityReport over 7 days of 1,000 workers at a 1-hour interval.
// Run: npm run bench:stats

import { create } from "@bufbuild/protobuf";
import { samplesOf } from "../src/core/machine-stats.js";
import { MachineStatsSchema } from "../src/gen/muster/workers/v1/types_pb.js";
import { InfluxHttp } from "../src/stats/influx/influx-http.js";
import { RETENTION_POLICY, reportLines } from "../src/stats/influx/influx-schema.js";
import { startInfluxd } from "../test/harness/influxd.js";
import { startNatsServer } from "../test/harness/nats-server.js";
import { ghz } from "./lib/ghz.js";
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
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** What a ClearML agent on a 4-GPU node reports: 26 values. */
const gpuNode = {
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
    const production = (db: string) => [
      ...["--presence", "nats", "--nats-url", nats.url, "--nats-bucket", `bench_${db}`],
      ...["--stats", "influx", "--influx-url", influx.url, "--influx-db", db],
    ];
    const throughput: Record<string, StatusReportResults> = {};
    for (const [name, flags] of [
      ["memory", [] as string[]],
      ["influx+nats", production(`reports_${Date.now()}`)],
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

    // Query latency on InfluxDB: data written straight in InfluxDB's own format, as muster writes it.
    const db = `queries_${Date.now()}`;
    const muster = await startMusterProcess(production(db));
    try {
      const http = new InfluxHttp(influx.url, db, 120_000);
      const now = Date.now();
      const dayStart = Math.floor((now - DAY) / 60_000) * 60_000;
      const samples = samplesOf(create(MachineStatsSchema, gpuNode));
      let t = Date.now();
      const statsPoints = await preload(
        http,
        STATS_WORKERS,
        dayStart,
        now,
        REPORT_PERIOD_S * 1000,
        (worker, timeMs) =>
          reportLines({ company: "default", worker, task: "task-1", timeMs, samples }),
      );
      console.log(
        `preloaded ${statsPoints} points (${STATS_WORKERS} workers, 24 h) in ${Math.round((Date.now() - t) / 1000)} s`,
      );
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
      const one = await ghz({
        address: muster.address,
        method: METHOD("GetStats"),
        data: statsRequest(["worker-0"]),
        concurrency: 1,
        requests: 20,
      });
      log("influx", "GetStats 1 worker, 24 h at 60 s", one);
      const all = await ghz({
        address: muster.address,
        method: METHOD("GetStats"),
        data: statsRequest(Array.from({ length: STATS_WORKERS }, (_, i) => `worker-${i}`)),
        concurrency: 1,
        requests: 10,
      });
      log("influx", `GetStats ${STATS_WORKERS} workers, 24 h at 60 s`, all);

      const weekStart = Math.floor((now - 7 * DAY) / HOUR) * HOUR;
      t = Date.now();
      const activityPoints = await preload(
        http,
        ACTIVITY_WORKERS,
        weekStart,
        now,
        REPORT_PERIOD_S * 1000,
        (worker, timeMs) =>
          reportLines({
            company: "default",
            worker: `a-${worker}`,
            task: timeMs % 7 === 0 ? undefined : "t",
            timeMs,
            samples: [],
          }),
      );
      console.log(
        `preloaded ${activityPoints} activity points (${ACTIVITY_WORKERS} workers, 7 days) in ${Math.round((Date.now() - t) / 1000)} s`,
      );
      const activity = await ghz({
        address: muster.address,
        method: METHOD("GetActivityReport"),
        data: {
          fromDate: Math.floor(weekStart / 1000),
          toDate: Math.floor(now / 1000),
          interval: 3600,
        },
        concurrency: 1,
        requests: 10,
      });
      log("influx", `GetActivityReport ${ACTIVITY_WORKERS} workers, 7 days at 1 h`, activity);

      const { memory, "influx+nats": production } = throughput;
      if (memory && production) {
        printComparison(
          "status_report, 4-GPU stats",
          ["memory", memory],
          ["influx+nats", production],
        );
      }
      console.log("\n| query on InfluxDB | p50 | p90 |");
      console.log("|---|---|---|");
      console.log(`| GetStats, 1 worker, 24 h at 60 s | ${one.p50Ms} ms | ${one.p90Ms} ms |`);
      console.log(
        `| GetStats, ${STATS_WORKERS} workers, 24 h at 60 s | ${all.p50Ms} ms | ${all.p90Ms} ms |`,
      );
      console.log(
        `| GetActivityReport, ${ACTIVITY_WORKERS} workers, 7 days at 1 h | ${activity.p50Ms} ms | ${activity.p90Ms} ms |`,
      );
    } finally {
      await muster.stop();
    }
  } finally {
    await Promise.all([nats.close(), influx.close()]);
  }
}

/** Writes every worker's reports from `fromMs` to `toMs` every `periodMs`, in large batches. */
async function preload(
  http: InfluxHttp,
  workers: number,
  fromMs: number,
  toMs: number,
  periodMs: number,
  linesOf: (worker: string, timeMs: number) => string[],
): Promise<number> {
  let batch: string[] = [];
  let written = 0;
  const flush = async () => {
    if (batch.length === 0) return;
    await http.write(batch.join("\n"), RETENTION_POLICY);
    written += batch.length;
    batch = [];
  };
  for (let timeMs = fromMs; timeMs <= toMs; timeMs += periodMs) {
    for (let w = 0; w < workers; w++) {
      // Spread the workers over the period, as real ones are.
      batch.push(...linesOf(`worker-${w}`, timeMs + ((w * 997) % periodMs)));
    }
    if (batch.length >= 20_000) await flush();
  }
  await flush();
  return written;
}

await main();
