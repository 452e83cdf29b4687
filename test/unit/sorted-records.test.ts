// The sorted view against a plain sort: thousands of random joins, updates and removals (enough to
// split and empty chunks), then every resume point.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import {
  type PresenceRecord,
  PresenceRecordSchema,
} from "../../src/gen/muster/presence/v1/record_pb.js";
import { IdNameEntrySchema, WorkerSchema } from "../../src/gen/muster/workers/v1/types_pb.js";
import { compareKeys, SortedRecords, type SortKey } from "../../src/workers/sorted-records.js";

const record = (id: string, user: string, tag = ""): PresenceRecord =>
  create(PresenceRecordSchema, {
    worker: create(WorkerSchema, {
      id,
      user: create(IdNameEntrySchema, { id: user }),
      tags: [tag],
    }),
  });
/** The view's entries after `after`, flattened from its runs. */
const from = (view: SortedRecords, after: SortKey | undefined) =>
  [...view.runsFrom(after)].flatMap((run) => run.entries.slice(run.start));
const label = (r: PresenceRecord) => `${r.worker?.id}|${r.worker?.user?.id}|${r.worker?.tags[0]}`;

describe("SortedRecords", () => {
  it("stays in (worker id, user) order through random changes, and resumes after any key", () => {
    const view = new SortedRecords();
    const reference = new Map<string, PresenceRecord>();
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const id = `w-${random(3000)}`;
      const user = `u${random(2)}`;
      const key = `${id}|${user}`;
      if (random(4) === 0) {
        view.remove(record(id, user));
        reference.delete(key);
      } else {
        const r = record(id, user, String(step));
        view.upsert(r);
        reference.set(key, r);
      }
    }
    const expected = [...reference.values()].sort((a, b) =>
      compareKeys(
        { id: a.worker?.id ?? "", user: a.worker?.user?.id ?? "" },
        { id: b.worker?.id ?? "", user: b.worker?.user?.id ?? "" },
      ),
    );
    expect(view.size).toBe(expected.length);
    expect(from(view, undefined).map((e) => label(e.record))).toEqual(expected.map(label));
    for (const at of [0, 1, 511, 512, 1024, expected.length - 1]) {
      const after = expected[at];
      if (after === undefined) continue;
      const key = { id: after.worker?.id ?? "", user: after.worker?.user?.id ?? "" };
      expect(from(view, key).map((e) => label(e.record))).toEqual(
        expected.slice(at + 1).map(label),
      );
    }
    // A key that is not held resumes at the next one that is.
    expect(from(view, { id: "w-1500", user: "u1~" }).map((e) => label(e.record))).toEqual(
      expected.filter((r) => (r.worker?.id ?? "") > "w-1500").map(label),
    );
  });

  it("empties completely", () => {
    const view = new SortedRecords();
    for (let i = 0; i < 3000; i++) view.upsert(record(`w${i}`, "u"));
    for (let i = 0; i < 3000; i++) view.remove(record(`w${i}`, "u"));
    expect(view.size).toBe(0);
    expect(from(view, undefined)).toEqual([]);
    view.upsert(record("again", "u"));
    expect(from(view, undefined).map((e) => label(e.record))).toEqual(["again|u|"]);
  });
});
