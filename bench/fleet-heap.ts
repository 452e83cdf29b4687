// Live heap per registered worker, in one process with the memory stores: FLEET workers each send
// a status report (a task, a queue, two tags, 4-GPU machine stats), then one binary GetAll builds
// the view and its cached encodings. After each step a full GC, then V8's used heap and external
// memory; the difference over the empty service, per worker, is what a worker costs to keep.
// Run: npm run bench:build && node --expose-gc dist-bench/bench/fleet-heap.js   (FLEET=100000)
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { systemClock } from "../src/core/clock.js";
import { DEFAULT_IDENTITY } from "../src/core/identity.js";
import {
  GetAllRequestSchema,
  GetAllResponseSchema,
  StatusReportRequestSchema,
} from "../src/gen/muster/workers/v1/workers_pb.js";
import { MemoryPresenceStore } from "../src/presence/memory/memory-presence-store.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { WorkersServiceImpl } from "../src/workers/service.js";
import { GPU_NODE } from "./lib/influx-dataset.js";

const FLEET = Number(process.env.FLEET ?? 100_000);
/** NO_STATS=1 leaves machine stats out, to see the presence side alone. */
const STATS = process.env.NO_STATS !== "1";
const gc = (globalThis as { gc?: () => void }).gc;
if (gc === undefined) throw new Error("run with node --expose-gc");

function heap(): { used: number; external: number } {
  gc?.();
  gc?.();
  const usage = process.memoryUsage();
  // `external` includes the ArrayBuffers' memory (Node counts it in both).
  return { used: usage.heapUsed, external: usage.external };
}

const presence = new MemoryPresenceStore(systemClock);
// Stats go to a store of their own that is dropped: the presence side is what is measured.
const service = new WorkersServiceImpl({
  presence,
  stats: new MemoryStatsStore(systemClock),
  clock: systemClock,
});
const ctx = { identity: DEFAULT_IDENTITY };
const empty = heap();
const report = (i: number) =>
  service.statusReport(
    create(StatusReportRequestSchema, {
      worker: `fleet-node-${i}`,
      timestamp: BigInt(Date.now()),
      task: `task-${i}`,
      queue: "default",
      tags: ["bench", "gpu"],
      ...(STATS ? { machineStats: GPU_NODE } : {}),
    }),
    ctx,
  );
for (let i = 0; i < FLEET; i += 1000) {
  await Promise.all(Array.from({ length: Math.min(1000, FLEET - i) }, (_, k) => report(i + k)));
}
const reported = heap();
const answer = await service.getAllEncoded(create(GetAllRequestSchema, {}), ctx);
const viewed = heap();
const mb = (n: number) => (n / 1048576).toFixed(1);
const per = (n: number) => Math.round(n / FLEET);
// The binary answer carries its workers as encoded bytes ($unknown); decoded here to count them.
// (A function, so that the decoded workers are not in the heap snapshot below.)
const answeredCount = () =>
  fromBinary(GetAllResponseSchema, toBinary(GetAllResponseSchema, answer)).workers.length;
console.log(`${FLEET} workers, ${answeredCount()} in the GetAll answer`);
console.log(
  `after the reports: heap +${mb(reported.used - empty.used)} MB (${per(reported.used - empty.used)} B/worker), external +${mb(reported.external - empty.external)} MB`,
);
console.log(
  `after GetAll (view and encodings): heap +${mb(viewed.used - empty.used)} MB (${per(viewed.used - empty.used)} B/worker), external +${mb(viewed.external - empty.external)} MB (${per(viewed.external - empty.external)} B/worker)`,
);

if (process.env.SNAPSHOT) {
  const { writeHeapSnapshot } = await import("node:v8");
  console.log(`heap snapshot: ${writeHeapSnapshot(process.env.SNAPSHOT)}`);
}
await presence.close();
