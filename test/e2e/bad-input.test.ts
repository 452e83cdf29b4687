import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearml } from "../support/clearml.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { BAD_INPUT_CASES, now } from "./bad-input-cases.js";

describe("bad input through the ClearML layer", () => {
  let muster: TestServer;
  beforeAll(async () => {
    muster = await startTestServer();
  });
  afterAll(async () => {
    await muster.close();
  });

  it.each(BAD_INPUT_CASES)(
    "$name: $status/$subcode naming the field, nothing stored",
    async (c) => {
      const res = await clearml(muster.url, c.path, c.body, c.method ? { method: c.method } : {});
      expect(res.status).toBe(c.status);
      expect(res.body.meta.result_code).toBe(c.status);
      expect(res.body.meta.result_subcode).toBe(c.subcode);
      expect(res.body.meta.result_msg).toContain(c.mentions);
      expect(res.body.data).toEqual({});
      const count = await clearml(muster.url, "/workers.get_count", {});
      expect(count.body.data).toEqual({ count: 0 });
      const activity = await clearml(muster.url, "/workers.get_activity_report", {
        from_date: now - 7200,
        to_date: now + 60,
        interval: 3600,
      });
      expect((activity.body.data.total as { counts: number[] }).counts.every((n) => n === 0)).toBe(
        true,
      );
    },
  );

  it("refuses a body over 4 MiB with 413", async () => {
    const res = await clearml(muster.url, "/workers.register", {
      worker: "w",
      pad: "x".repeat(5 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(res.body.meta.result_code).toBe(413);
  });
});
