// GetAll inside one process, the service and protobuf encoding alone (no HTTP/2, no client): this
// build next to another build's (BENCH_BASE_DIST=/path/to/other/dist), same process, same run,
// so the ratio survives a busy machine. Run: npm run bench:build && node dist-bench/bench/get-all-service.js
import { create, toBinary } from "@bufbuild/protobuf";
import { systemClock } from "../src/core/clock.js";
import { DEFAULT_IDENTITY } from "../src/core/identity.js";
import {
  GetAllRequestSchema,
  GetAllResponseSchema,
  RegisterRequestSchema,
} from "../src/gen/muster/workers/v1/workers_pb.js";

type ServiceModule = typeof import("../src/workers/service.js");
type StoreModule = typeof import("../src/presence/memory/memory-presence-store.js");
type StatsModule = typeof import("../src/stats/memory/memory-stats-store.js");

const FLEETS = (process.env.BENCH_FLEETS ?? "10000,100000").split(",").map(Number);
const CALLS = Number(process.env.BENCH_CALLS ?? 15);

async function build(dir: string) {
  const service: ServiceModule = await import(`${dir}/workers/service.js`);
  const presence: StoreModule = await import(`${dir}/presence/memory/memory-presence-store.js`);
  const stats: StatsModule = await import(`${dir}/stats/memory/memory-stats-store.js`);
  return { service, presence, stats };
}

const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const here = new URL("..", import.meta.url).pathname.replace(/\/$/, "");
  const builds: Array<[string, Awaited<ReturnType<typeof build>>]> = [
    ["this", await build(`${here}/src`)],
  ];
  const base = process.env.BENCH_BASE_DIST;
  if (base !== undefined) builds.unshift(["base", await build(base)]);
  const ctx = { identity: DEFAULT_IDENTITY };
  for (const fleet of FLEETS) {
    const services = builds.map(([name, m]) => {
      const presence = new m.presence.MemoryPresenceStore(systemClock);
      const stats = new m.stats.MemoryStatsStore(systemClock);
      return {
        name,
        presence,
        service: new m.service.WorkersServiceImpl({ presence, stats, clock: systemClock }),
      };
    });
    for (const { service } of services) {
      for (let i = 0; i < fleet; i++) {
        await service.register(
          create(RegisterRequestSchema, { worker: `fleet-${i}`, timeout: 3600, tags: ["bench"] }),
          ctx,
        );
      }
    }
    const times = new Map<string, { call: number[]; encode: number[]; cached: number[] }>(
      services.map((s) => [s.name, { call: [], encode: [], cached: [] }]),
    );
    // Interleaved, so both builds see the same machine load.
    for (let round = 0; round < CALLS; round++) {
      for (const { name, service } of services) {
        const t0 = performance.now();
        const answer = await service.getAll(create(GetAllRequestSchema, { lastSeen: 0 }), ctx);
        const t1 = performance.now();
        const plain = toBinary(GetAllResponseSchema, answer);
        const t2 = performance.now();
        if ("getAllEncoded" in service) {
          const t3 = performance.now();
          const encoded = await service.getAllEncoded(
            create(GetAllRequestSchema, { lastSeen: 0 }),
            ctx,
          );
          const bytes = toBinary(GetAllResponseSchema, encoded);
          times.get(name)?.cached.push(performance.now() - t3);
          if (Buffer.compare(bytes, plain) !== 0)
            throw new Error("the cached encoding differs from the plain one");
        }
        if (answer.workers.length !== fleet)
          throw new Error(`${name}: ${answer.workers.length} workers`);
        times.get(name)?.call.push(t1 - t0);
        times.get(name)?.encode.push(t2 - t1);
      }
    }
    for (const [name, t] of times) {
      console.log(
        `${fleet} workers, ${name}: getAll p50 ${median(t.call).toFixed(1)} ms, toBinary p50 ${median(t.encode).toFixed(1)} ms, getAllEncoded + toBinary p50 ${median(t.cached).toFixed(1)} ms`,
      );
    }
    for (const { presence } of services) await presence.close();
  }
}

await main();
