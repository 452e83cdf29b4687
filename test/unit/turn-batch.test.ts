import { describe, expect, it } from "vitest";
import { TurnBatch } from "../../src/presence/nats/turn-batch.js";

describe("TurnBatch", () => {
  it("starts the calls of one turn together after it, and settles each as its call does", async () => {
    const batch = new TurnBatch();
    const started: string[] = [];
    const call = (name: string, outcome: "ok" | "reject" | "throw") =>
      batch.run(() => {
        started.push(name);
        if (outcome === "throw") throw new Error(`${name} threw`);
        return outcome === "ok"
          ? Promise.resolve(name)
          : Promise.reject(new Error(`${name} failed`));
      });
    const a = call("a", "ok");
    // Queued from another callback of the same turn (as a second request's handler would be).
    const b = Promise.resolve().then(() => call("b", "reject"));
    const c = call("c", "throw");
    await Promise.resolve();
    expect(started).toEqual([]);
    await expect(a).resolves.toBe("a");
    await expect(b).rejects.toThrow("b failed");
    await expect(c).rejects.toThrow("c threw");
    // In the order they were queued: b's callback ran after c was queued.
    expect(started).toEqual(["a", "c", "b"]);
    // A later turn gets a batch of its own.
    await expect(call("d", "ok")).resolves.toBe("d");
    expect(started).toEqual(["a", "c", "b", "d"]);
  });
});
