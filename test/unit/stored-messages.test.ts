// The literal messages must be exactly what protobuf-es's create() makes, field for field, so a
// stored record reads, compares and encodes the same whichever way it was built.
import { create, toBinary } from "@bufbuild/protobuf";
import { TimestampSchema, timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import {
  CurrentTaskEntrySchema,
  IdNameEntrySchema,
  QueueEntrySchema,
} from "../../src/gen/muster/workers/v1/types_pb.js";
import { SharedEntries } from "../../src/workers/shared-entries.js";
import {
  idNameEntry,
  queueEntry,
  taskEntry,
  timestampAt,
} from "../../src/workers/stored-messages.js";

describe("stored messages made as literals", () => {
  it("timestampAt equals timestampFromMs, before and after the epoch and at second edges", () => {
    for (const ms of [
      0, 1, 999, 1000, 1001, -1, -999, -1000, -1001, 1_764_000_123_456, -62_135_596_800_000,
    ]) {
      const literal = timestampAt(ms);
      expect(literal, String(ms)).toStrictEqual(timestampFromMs(ms));
      expect(toBinary(TimestampSchema, literal)).toEqual(
        toBinary(TimestampSchema, timestampFromMs(ms)),
      );
    }
  });

  it("timestampAt gives records stored in the same millisecond one timestamp, and each instant its own value", () => {
    const first = timestampAt(1_764_000_123_456);
    expect(timestampAt(1_764_000_123_456)).toBe(first);
    // Another millisecond of the same second, another second, then the first instant again.
    for (const ms of [1_764_000_123_457, 1_764_000_124_000, 1_764_000_123_456]) {
      expect(timestampAt(ms), String(ms)).toStrictEqual(timestampFromMs(ms));
    }
    expect(first).toStrictEqual(timestampFromMs(1_764_000_123_456));
  });

  it("entries equal create() with the same fields", () => {
    expect(taskEntry("t-1")).toStrictEqual(create(CurrentTaskEntrySchema, { id: "t-1" }));
    expect(queueEntry("q")).toStrictEqual(create(QueueEntrySchema, { id: "q" }));
    expect(idNameEntry("alice")).toStrictEqual(
      create(IdNameEntrySchema, { id: "alice", name: "alice" }),
    );
  });
});

describe("SharedEntries", () => {
  it("gives the same object for the same key, and starts over past its limit", () => {
    const made: string[] = [];
    const shared = new SharedEntries((key) => {
      made.push(key);
      return queueEntry(key);
    });
    const first = shared.entry("gpu");
    expect(shared.entry("gpu")).toBe(first);
    expect(made).toEqual(["gpu"]);
    for (let i = 0; i < 10_000; i++) shared.entry(`q-${i}`);
    // The cache was cleared once it held 10,000 keys: "gpu" is made again, and is equal.
    const again = shared.entry("gpu");
    expect(again).not.toBe(first);
    expect(again).toStrictEqual(first);
    expect(made.filter((key) => key === "gpu")).toHaveLength(2);
  });
});
