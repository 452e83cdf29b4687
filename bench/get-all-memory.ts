// Where muster's memory goes at a large fleet: registers FLEET workers over gRPC (ghz), then
// runs GetAll 3 × 10 times (h2load), printing RSS and the V8 heap and external memory from
// /metrics after each step. NODE_ARGS replaces the start script's flags to muster's node (V8
// settings, or --heapsnapshot-signal=SIGUSR2 with SNAPSHOT=1 to write a heap snapshot after
// registering; NODE_ARGS=" " for none).
// Run: npm run bench:build && FLEET=100000 node dist-bench/bench/get-all-memory.js
import { create } from "@bufbuild/protobuf";
import { GetAllRequestSchema } from "../src/gen/muster/workers/v1/workers_pb.js";
import { ghz } from "./lib/ghz.js";
import { h2loadGrpc } from "./lib/h2load.js";
import { startMusterProcess, startScriptNodeFlags } from "./lib/process.js";

const METHOD = (name: string) => `muster.workers.v1.WorkersService/${name}`;
const FLEET = Number(process.env.FLEET ?? 100_000);
const NODE_ARGS =
  process.env.NODE_ARGS === undefined
    ? startScriptNodeFlags()
    : process.env.NODE_ARGS.split(" ").filter(Boolean);

async function memory(url: string): Promise<string> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const mb = (name: string) =>
    Math.round(Number(new RegExp(`^${name} (\\S+)`, "m").exec(text)?.[1]) / 1048576);
  return `RSS ${mb("process_resident_memory_bytes")} MB, heap ${mb("nodejs_heap_size_used_bytes")} used of ${mb("nodejs_heap_size_total_bytes")} MB, external ${mb("nodejs_external_memory_bytes")} MB`;
}

const muster = await startMusterProcess([], NODE_ARGS);
try {
  console.log(`started (${NODE_ARGS.join(" ") || "no node flags"}): ${await memory(muster.url)}`);
  const registered = await ghz({
    address: muster.address,
    method: METHOD("Register"),
    data: { worker: "fleet-{{.RequestNumber}}", timeout: 3600, tags: ["bench"] },
    concurrency: 32,
    requests: FLEET,
  });
  console.log(`registered ${FLEET} at ${registered.rps}/s: ${await memory(muster.url)}`);
  if (process.env.SNAPSHOT) {
    process.kill(muster.pid, "SIGUSR2");
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    console.log(`after the heap snapshot: ${await memory(muster.url)}`);
  }
  for (let round = 0; round < 3; round++) {
    const result = await h2loadGrpc({
      url: muster.url,
      path: `/${METHOD("GetAll")}`,
      schema: GetAllRequestSchema,
      request: create(GetAllRequestSchema, { lastSeen: 0 }),
      requests: 10,
    });
    console.log(
      `10 GetAll: p50 ${result.p50Ms} ms, p90 ${result.p90Ms} ms: ${await memory(muster.url)}`,
    );
  }
} finally {
  await muster.stop();
}
