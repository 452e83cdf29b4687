// Presence benchmark (issue 3): status_report throughput and latency with NATS presence next to
// memory presence, over gRPC (ghz) and the ClearML HTTP path (wrk); GetAll latency at 10,000 and
// 100,000 live workers; muster's RSS at 100,000. Stats stay in memory throughout, so the
// comparison isolates the presence store. Run: npm run bench:presence

import { create } from "@bufbuild/protobuf";
import { GetAllRequestSchema } from "../src/gen/muster/workers/v1/workers_pb.js";
import { startNatsServer } from "../test/harness/nats-server.js";
import { ghz, type LoadResult } from "./lib/ghz.js";
import { h2loadGrpc } from "./lib/h2load.js";
import { startMusterProcess } from "./lib/process.js";
import {
  CONCURRENCY,
  logLoad as log,
  measureStatusReports,
  printComparison,
  type StatusReportResults,
} from "./lib/status-reports.js";

const METHOD = (name: string) => `muster.workers.v1.WorkersService/${name}`;
const FLEETS = (process.env.BENCH_FLEETS ?? "10000,100000").split(",").map(Number);
/** BENCH_STORES=memory and BENCH_PARTS=getall narrow a run to what is being measured. */
const STORES = (process.env.BENCH_STORES ?? "memory,nats").split(",");
const PARTS = (process.env.BENCH_PARTS ?? "reports,getall").split(",");

async function main(): Promise<void> {
  const nats = await startNatsServer();
  const stores = [
    { name: "memory", flags: (_: string) => [] as string[] },
    {
      name: "nats",
      flags: (bucket: string) => [
        "--presence",
        "nats",
        "--nats-url",
        nats.url,
        "--nats-bucket",
        bucket,
      ],
    },
  ];
  const throughput: Record<string, StatusReportResults> = {};
  const getAll: Record<
    string,
    Record<number, LoadResult & { rssMb: number; registerRps: number }>
  > = {};
  try {
    for (const store of stores.filter((s) => STORES.includes(s.name))) {
      if (PARTS.includes("reports")) {
        const muster = await startMusterProcess(store.flags(`bench_reports_${Date.now()}`));
        try {
          const { grpc, http } = await measureStatusReports(muster, { httpStats: null });
          throughput[store.name] = { grpc, http };
          log(store.name, "status_report gRPC", grpc);
          log(store.name, "status_report HTTP", http);
        } finally {
          await muster.stop();
        }
      }
      if (!PARTS.includes("getall")) continue;
      const byFleet: Record<number, LoadResult & { rssMb: number; registerRps: number }> = {};
      getAll[store.name] = byFleet;
      for (const fleet of FLEETS) {
        const muster = await startMusterProcess(store.flags(`bench_fleet_${fleet}_${Date.now()}`));
        try {
          const registered = await ghz({
            address: muster.address,
            method: METHOD("Register"),
            data: { worker: "fleet-{{.RequestNumber}}", timeout: 3600, tags: ["bench"] },
            concurrency: CONCURRENCY,
            requests: fleet,
          });
          const count = await ghz({
            address: muster.address,
            method: METHOD("GetCount"),
            data: {},
            concurrency: 1,
            requests: 1,
          });
          if (count.errors > 0) throw new Error("GetCount failed");
          const result = await h2loadGrpc({
            url: muster.url,
            path: `/${METHOD("GetAll")}`,
            schema: GetAllRequestSchema,
            request: create(GetAllRequestSchema, { lastSeen: 0 }),
            requests: fleet >= 100_000 ? 10 : 40,
          });
          const rssMb = await muster.rssMb();
          byFleet[fleet] = { ...result, rssMb, registerRps: registered.rps };
          log(
            store.name,
            `GetAll at ${fleet} workers (RSS ${rssMb} MB, register ${registered.rps}/s)`,
            result,
          );
        } finally {
          await muster.stop();
        }
      }
    }
  } finally {
    await nats.close();
  }

  const { memory, nats: natsResults } = throughput;
  if (memory && natsResults) {
    printComparison("status_report", ["memory", memory], ["nats", natsResults]);
  }
  console.log("\n| GetAll (gRPC) | store | p50 | p90 | RSS after |");
  console.log("|---|---|---|---|---|");
  for (const [store, byFleet] of Object.entries(getAll)) {
    for (const [fleet, r] of Object.entries(byFleet)) {
      console.log(
        `| ${Number(fleet).toLocaleString("en")} workers | ${store} | ${r.p50Ms} ms | ${r.p90Ms} ms | ${r.rssMb} MB |`,
      );
    }
  }
}

await main();
