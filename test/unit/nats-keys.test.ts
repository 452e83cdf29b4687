import { describe, expect, it } from "vitest";
import type { WorkerKey } from "../../src/core/presence-store.js";
import { versionProblem } from "../../src/presence/nats/nats-connect.js";
import {
  decodeKey,
  decodeToken,
  encodeKey,
  encodeToken,
} from "../../src/presence/nats/nats-keys.js";
import { HOSTILE_IDS } from "../support/hostile-ids.js";

// The NATS presence store's pure parts: KV key encoding and the server version gate.

describe("NATS key encoding", () => {
  it("round-trips hostile ids and gives legal, distinct KV keys", () => {
    const keys = new Set<string>();
    for (const worker of HOSTILE_IDS) {
      for (const company of ["default", "a.b", ""]) {
        const k: WorkerKey = { company, user: "u:1 ", worker };
        const encoded = encodeKey(k);
        expect(encoded).toMatch(/^[-=\w]+\.[-=\w]+\.[-=\w]+$/);
        expect(decodeKey(encoded)).toEqual(k);
        keys.add(encoded);
      }
    }
    expect(keys.size).toBe(HOSTILE_IDS.length * 3);
  });

  it("keeps the parts apart: no two splits of the same text collide", () => {
    expect(encodeKey({ company: "a.b", user: "c", worker: "d" })).not.toBe(
      encodeKey({ company: "a", user: "b.c", worker: "d" }),
    );
  });

  it("rejects tokens it did not make", () => {
    for (const token of ["a", "a=", "ab+c", "a.b", "", "____x"]) {
      expect(decodeToken(token), token).toBeUndefined();
    }
    expect(decodeToken(encodeToken(""))).toBe("");
    expect(decodeKey("YQ.Yg")).toBeUndefined();
  });
});
describe("NATS server version gate", () => {
  it("refuses servers older than 2.11 and says why", () => {
    expect(versionProblem("2.9.25")).toMatch(/2\.9\.25 is too old.*>= 2\.11.*TTL/);
    expect(versionProblem("2.10.29")).toMatch(/too old/);
    expect(versionProblem(undefined)).toMatch(/cannot read the server version/);
  });

  it("accepts 2.11 and later", () => {
    for (const version of ["2.11.0", "2.12.1", "2.15.2", "3.0.0"]) {
      expect(versionProblem(version), version).toBeUndefined();
    }
  });
});
