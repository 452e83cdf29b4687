import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { DEFAULT_IDENTITY } from "../../src/core/identity.js";
import type { PresenceRecord, WorkerKey } from "../../src/core/presence-store.js";
import { PresenceRecordSchema } from "../../src/gen/muster/presence/v1/record_pb.js";
import { IdNameEntrySchema, WorkerSchema } from "../../src/gen/muster/workers/v1/types_pb.js";
import { companyToken, decodeKey, encodeKey } from "../../src/presence/nats/nats-keys.js";
import { PresenceView } from "../../src/presence/nats/nats-view.js";

// The NATS presence store's in-memory view of the bucket, fed by hand: no server needed.

const key = (worker: string): WorkerKey => ({ ...DEFAULT_IDENTITY, worker });

function record(worker: string, tags: string[] = [], timeoutSeconds = 600): PresenceRecord {
  const now = timestampFromMs(Date.now());
  return create(PresenceRecordSchema, {
    worker: create(WorkerSchema, {
      id: worker,
      user: create(IdNameEntrySchema, { id: "default" }),
      company: create(IdNameEntrySchema, { id: "default" }),
      registerTime: now,
      lastActivityTime: now,
      registerTimeout: timeoutSeconds,
      tags,
    }),
  });
}

describe("the watch-fed view", () => {
  const now = Date.now();
  const at = (worker: string) => encodeKey(key(worker));

  it("keeps the newer of a local write and a late watch message", () => {
    const view = new PresenceView();
    expect(view.apply(at("w"), 5, record("w", ["local"]), "unregistered", false, now)?.kind).toBe(
      "joined",
    );
    expect(view.apply(at("w"), 4, record("w", ["old"]), "unregistered", true, now)).toBeUndefined();
    expect(view.list(companyToken("default"), now)[0]?.worker?.tags).toEqual(["local"]);
    // A local removal leaves a tombstone that an older put cannot undo.
    const left = view.apply(at("w"), 6, undefined, "unregistered", false, now);
    expect(left?.kind === "left" && left.reason).toBe("unregistered");
    expect(view.apply(at("w"), 5, record("w"), "unregistered", true, now)).toBeUndefined();
    expect(view.list(companyToken("default"), now)).toEqual([]);
    // The watch echoing the removal clears the tombstone.
    view.apply(at("w"), 6, undefined, "unregistered", true, now);
    expect(view.size).toBe(0);
  });

  it("calls a put over an expired record a join, and diffs views after a resync", () => {
    const before = new PresenceView();
    before.apply(at("gone"), 1, record("gone", [], 1), "unregistered", true, now);
    before.apply(at("kept"), 2, record("kept"), "unregistered", true, now);
    before.apply(at("changed"), 3, record("changed"), "unregistered", true, now);
    const later = now + 5000;
    expect(before.apply(at("gone"), 9, record("gone"), "unregistered", true, later)?.kind).toBe(
      "joined",
    );
    before.apply(at("gone"), 10, undefined, "expired", true, later);
    before.apply(at("gone"), 11, record("gone", [], 1), "unregistered", false, now);

    const after = new PresenceView();
    after.apply(at("kept"), 2, record("kept"), "unregistered", true, later);
    after.apply(at("changed"), 7, record("changed", ["x"]), "unregistered", true, later);
    after.apply(at("new"), 8, record("new"), "unregistered", true, later);
    const changes = before
      .changesTo(after, later)
      .map(([k, e]) => [decodeKey(k)?.worker, e.kind, e.kind === "left" && e.reason])
      .sort();
    expect(changes).toEqual([
      ["changed", "updated", false],
      ["gone", "left", "expired"],
      ["new", "joined", false],
    ]);
  });
});
