import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  GetAllRequestSchema,
  GetAllResponseSchema,
} from "../../src/gen/muster/workers/v1/workers_pb.js";
import { MemoryPresenceStore } from "../../src/presence/memory.js";
import { MemoryStatsStore } from "../../src/stats/memory.js";
import { DEFAULT_IDENTITY } from "../../src/workers/identity.js";
import { WorkersService } from "../../src/workers/service.js";
import { ManualClock } from "../support/clock.js";
import { client } from "../support/service.js";

describe("GetAll with cached worker encodings", () => {
  const ctx = { identity: DEFAULT_IDENTITY, clientIp: "192.0.2.7" };

  async function fleet() {
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 12));
    const presence = new MemoryPresenceStore(clock);
    const service = new WorkersService({ presence, stats: new MemoryStatsStore(clock), clock });
    const api = client(service, ctx);
    await api.register({ worker: "idle", queues: ["q1", "q2"], tags: ["a"], systemTags: ["s"] });
    await api.register({ worker: "host:gpu0,1 ünï", timeout: 30 });
    for (const worker of ["busy-1", "busy-2"]) {
      await api.statusReport({
        worker,
        timestamp: BigInt(clock.now()),
        task: `t-${worker}`,
        queue: "q1",
      });
    }
    /** What a binary client decodes from the pre-encoded answer. */
    const decoded = async (init: Parameters<typeof api.getAll>[0] = {}) => {
      const response = await service.getAllPreEncoded(create(GetAllRequestSchema, init), ctx);
      return fromBinary(GetAllResponseSchema, toBinary(GetAllResponseSchema, response));
    };
    return { clock, api, decoded, close: () => presence.close() };
  }

  it("decodes to exactly what getAll answers, tasks' running time included", async () => {
    const f = await fleet();
    try {
      f.clock.advance(42_000);
      expect(await f.decoded({ lastSeen: 0 })).toEqual(await f.api.getAll({ lastSeen: 0 }));
      const busy = (await f.decoded({ lastSeen: 0 })).workers.find((w) => w.id === "busy-1");
      expect(busy?.task?.runningTime).toBe(42n);
      expect(busy?.queue?.id).toBe("q1");
    } finally {
      await f.close();
    }
  });

  it("applies the same filters and follows every change", async () => {
    const f = await fleet();
    try {
      const ids = async (init: Parameters<typeof f.api.getAll>[0]) =>
        (await f.decoded(init)).workers.map((w) => w.id);
      expect(await ids({ tags: ["a"] })).toEqual(["idle"]);
      expect(await ids({ workerPattern: "busy-*" })).toEqual(["busy-1", "busy-2"]);
      await f.api.statusReport({ worker: "idle", timestamp: BigInt(f.clock.now()), tags: ["b"] });
      await f.api.statusReport({ worker: "busy-1", timestamp: BigInt(f.clock.now()) });
      f.clock.advance(30_000);
      const after = await f.decoded({ lastSeen: 0 });
      expect(after).toEqual(await f.api.getAll({ lastSeen: 0 }));
      expect(after.workers.map((w) => [w.id, w.tags, w.task?.id])).toEqual([
        ["busy-1", [], undefined],
        ["busy-2", [], "t-busy-2"],
        ["idle", ["b"], undefined],
      ]);
    } finally {
      await f.close();
    }
  });
});
