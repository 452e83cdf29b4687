import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../src/stats/influx/group-commit.js";

// The InfluxDB store's write batching, against a writer the test settles by hand.

describe("group commit", () => {
  /** A writer that records bodies and settles each write when told. */
  function gatedWriter() {
    const bodies: string[] = [];
    const gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
    const write = (body: string) =>
      new Promise<void>((resolve, reject) => {
        bodies.push(body);
        gates.push({ resolve, reject });
      });
    return { bodies, gates, write };
  }
  const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

  it("joins concurrent entries into one write and settles each with it", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 5, maxLines: 100, maxInFlight: 2 });
    let settled = 0;
    const all = [["a"], ["b", "c"], ["d"]].map((lines) =>
      commit.submit(lines).then(() => settled++),
    );
    await tick();
    expect(w.bodies).toEqual(["a\nb\nc\nd"]);
    expect(settled).toBe(0);
    w.gates[0]?.resolve();
    await Promise.all(all);
    expect(settled).toBe(3);
  });

  it("writes at once when maxLines lines wait, without the window", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 60_000, maxLines: 3, maxInFlight: 2 });
    void commit.submit(["a", "b"]);
    void commit.submit(["c"]);
    await tick(1);
    expect(w.bodies).toEqual(["a\nb\nc"]);
    w.gates[0]?.resolve();
  });

  it("rejects every entry of a failed write, and later writes go on", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 1, maxLines: 100, maxInFlight: 2 });
    const first = [commit.submit(["a"]), commit.submit(["b"])];
    await tick();
    w.gates[0]?.reject(new Error("boom"));
    for (const p of first) await expect(p).rejects.toThrow("boom");
    const second = commit.submit(["c"]);
    await tick();
    w.gates[1]?.resolve();
    await expect(second).resolves.toBeUndefined();
    expect(w.bodies).toEqual(["a\nb", "c"]);
  });

  it("queues while every write slot is busy, then sends the queue as one batch", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 1, maxLines: 100, maxInFlight: 1 });
    const a = commit.submit(["a"]);
    await tick();
    const rest = [commit.submit(["b"]), commit.submit(["c"])];
    await tick();
    expect(w.bodies).toEqual(["a"]);
    w.gates[0]?.resolve();
    await a;
    await tick();
    expect(w.bodies).toEqual(["a", "b\nc"]);
    w.gates[1]?.resolve();
    await Promise.all(rest);
  });

  it("writes what waits on close, then refuses new entries", async () => {
    const bodies: string[] = [];
    const commit = new GroupCommit(async (body) => void bodies.push(body), {
      windowMs: 60_000,
      maxLines: 100,
      maxInFlight: 1,
    });
    const pending = commit.submit(["a"]);
    await commit.close();
    await pending;
    expect(bodies).toEqual(["a"]);
    await expect(commit.submit(["b"])).rejects.toThrow("closed");
  });
});
