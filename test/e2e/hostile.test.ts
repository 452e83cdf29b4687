import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearml } from "../support/clearml.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** Hostile but cheap inputs: each one request or a bounded loop against a real muster. */
describe("hostile input", () => {
  let muster: TestServer;
  beforeAll(async () => {
    muster = await startTestServer();
  });
  afterAll(async () => {
    await muster.close();
  });

  it("answers a backtracking glob at the maximum pattern length and stays responsive", async () => {
    const worker = "a".repeat(256);
    expect((await clearml(muster.url, "/workers.register", { worker })).status).toBe(200);
    const worst = `${"*a".repeat(511)}*b`;
    const [slow, other] = await Promise.all([
      clearml(muster.url, "/workers.get_count", { worker_pattern: worst }),
      clearml(muster.url, "/workers.get_count", {}),
    ]);
    expect(slow.status).toBe(200);
    expect(slow.body.data).toEqual({ count: 0 });
    expect(other.body.data).toEqual({ count: 1 });
    const matching = await clearml(muster.url, "/workers.get_count", {
      worker_pattern: `${"*a".repeat(256)}*`,
    });
    expect(matching.body.data).toEqual({ count: 1 });
    await clearml(muster.url, "/workers.unregister", { worker });
  }, 20_000);
});
