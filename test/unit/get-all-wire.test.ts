// get_all's binary answer from cached worker encodings must read back exactly as the workers
// encoded whole, running_time included for a worker with a task.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { PresenceRecordSchema } from "../../src/gen/muster/presence/v1/record_pb.js";
import {
  CurrentTaskEntrySchema,
  IdNameEntrySchema,
  WorkerSchema,
} from "../../src/gen/muster/workers/v1/types_pb.js";
import { GetAllResponseSchema } from "../../src/gen/muster/workers/v1/workers_pb.js";
import {
  asUnknownWorkers,
  CHUNK_BYTES,
  encodedWorkersFields,
} from "../../src/workers/get-all-wire.js";
import { ViewEntry } from "../../src/workers/sorted-records.js";

const NOW = 1_700_000_000_000;

function entry(id: string, task?: { id: string; startedMs: number; runningTime?: bigint }) {
  const worker = create(WorkerSchema, {
    id,
    user: create(IdNameEntrySchema, { id: "u", name: "User" }),
    tags: ["a", "b"],
    lastActivityTime: timestampFromMs(NOW - 1000),
    registerTimeout: 600,
    ...(task === undefined
      ? {}
      : {
          task: create(CurrentTaskEntrySchema, {
            id: task.id,
            name: "training",
            ...(task.runningTime === undefined ? {} : { runningTime: task.runningTime }),
          }),
        }),
  });
  return new ViewEntry(
    create(PresenceRecordSchema, {
      worker,
      ...(task === undefined ? {} : { taskStartedAt: timestampFromMs(task.startedMs) }),
    }),
  );
}

function decode(entries: ViewEntry[]) {
  const response = create(GetAllResponseSchema, { nextPageToken: "next" });
  response.$unknown = encodedWorkersFields(entries, NOW).map(asUnknownWorkers);
  return fromBinary(GetAllResponseSchema, toBinary(GetAllResponseSchema, response));
}

describe("get_all's cached encodings", () => {
  it("are the bytes of the workers encoded whole when no worker runs a task", () => {
    const entries = [entry("w-1"), entry("w-2"), entry("w-3".repeat(100))];
    const whole = create(GetAllResponseSchema, {
      workers: entries.map((e) => e.record.worker ?? create(WorkerSchema)),
    });
    expect(Buffer.concat(encodedWorkersFields(entries, NOW))).toEqual(
      Buffer.from(toBinary(GetAllResponseSchema, whole)),
    );
    // Encoded once: a second answer reuses the entry's bytes.
    const first = entries[0]?.wire;
    encodedWorkersFields(entries, NOW);
    expect(entries[0]?.wire).toBe(first);
  });

  it("give a running worker its task merged with the running time at the call's moment", () => {
    const answer = decode([
      entry("idle"),
      entry("busy", { id: "t-1", startedMs: NOW - 45_500 }),
      // A stored running_time (none is stored today) is overridden by the one sent after it.
      entry("stale", { id: "t-2", startedMs: NOW - 5_000, runningTime: 999n }),
      entry("future", { id: "t-3", startedMs: NOW + 10_000 }),
      // Running for years: a running time of several varint bytes.
      entry("long", { id: "t-4", startedMs: NOW - 3_000_000_000_000 }),
    ]);
    expect(answer.nextPageToken).toBe("next");
    expect(
      answer.workers.map((w) => [w.id, w.task?.id, w.task?.name, w.task?.runningTime, w.tags]),
    ).toEqual([
      ["idle", undefined, undefined, undefined, ["a", "b"]],
      ["busy", "t-1", "training", 45n, ["a", "b"]],
      ["stale", "t-2", "training", 5n, ["a", "b"]],
      ["future", "t-3", "training", 0n, ["a", "b"]],
      ["long", "t-4", "training", 3_000_000_000n, ["a", "b"]],
    ]);
  });

  it("come in chunks of at most CHUNK_BYTES that each start at a worker, read back in order", () => {
    const entries = Array.from({ length: 8000 }, (_, i) =>
      i % 7 === 0
        ? entry(`busy-${i}`, { id: `t-${i}`, startedMs: NOW - i * 1000 })
        : entry(`w-${i}`),
    );
    // A worker larger than a chunk has one of its own.
    entries.splice(4000, 0, entry("x".repeat(CHUNK_BYTES + 10)));
    const chunks = encodedWorkersFields(entries, NOW);
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk[0]).toBe(0x0a); // field 1, length-delimited: a worker starts every chunk
      if (chunk.length > CHUNK_BYTES) expect(chunks.filter((c) => c === chunk)).toHaveLength(1);
    }
    expect(chunks.filter((c) => c.length > CHUNK_BYTES)).toHaveLength(1);
    const answer = decode(entries);
    expect(answer.workers.map((w) => w.id)).toEqual(entries.map((e) => e.record.worker?.id));
    expect(answer.workers[7]?.task?.runningTime).toBe(7n);
  });

  it("is empty for no entries", () => {
    expect(encodedWorkersFields([], NOW).length).toBe(0);
  });
});
