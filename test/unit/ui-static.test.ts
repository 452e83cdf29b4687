// The dashboard's file handler: what it serves, with which headers, and what it leaves to the
// ClearML layer (other paths, other methods, anything outside dist-web/).
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staticFiles } from "../../src/ui/static.js";

/** A response that records what the handler did. */
function recorder() {
  const headers: Record<string, string | number> = {};
  const res = {
    statusCode: 0,
    body: undefined as string | undefined,
    headers,
    setHeader(name: string, value: string | number) {
      headers[name] = value;
    },
    end(body?: Uint8Array | string) {
      res.body = body === undefined ? undefined : Buffer.from(body).toString("utf8");
    },
  };
  return res;
}

describe("dashboard static files", () => {
  let dir: string;
  let root: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "muster-ui-"));
    root = join(dir, "dist-web");
    await mkdir(join(root, "assets"), { recursive: true });
    await writeFile(join(root, "index.html"), "<!doctype html><title>muster</title>");
    await writeFile(join(root, "assets", "index-abc123.js"), "console.log(1)");
    await writeFile(join(dir, "secret.txt"), "not for you");
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const call = async (url: string, method = "GET", at = root) => {
    const res = recorder();
    const handled = await staticFiles(at)({ url, method }, res);
    return { handled, ...res };
  };

  it("serves index.html at / without caching it, and hashed assets for a year", async () => {
    const page = await call("/?x=1");
    expect(page).toMatchObject({ handled: true, statusCode: 200 });
    expect(page.body).toContain("<title>muster</title>");
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["cache-control"]).toBe("no-cache");

    const asset = await call("/assets/index-abc123.js");
    expect(asset).toMatchObject({ handled: true, statusCode: 200, body: "console.log(1)" });
    expect(asset.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(asset.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
    expect(asset.headers["content-length"]).toBe(14);
  });

  it("answers HEAD with the headers and no body", async () => {
    const head = await call("/assets/index-abc123.js", "HEAD");
    expect(head).toMatchObject({ handled: true, statusCode: 200, body: undefined });
    expect(head.headers["content-length"]).toBe(14);
  });

  it("leaves other paths, methods and escapes from the root to the next handler", async () => {
    for (const [url, method] of [
      ["/workers.get_all", "GET"],
      ["/v2.13/workers.get_all", "GET"],
      ["/", "POST"],
      ["/assets/missing.js", "GET"],
      ["/assets/../../secret.txt", "GET"],
      ["/assets/%2e%2e/%2e%2e/secret.txt", "GET"],
      ["/assets/..%5c..%5csecret.txt", "GET"],
      ["/assets/%E0%A4%A", "GET"],
      ["/assets", "GET"],
    ] as const) {
      const result = await call(url, method);
      expect({ url, method, handled: result.handled }).toEqual({ url, method, handled: false });
      expect(result.statusCode).toBe(0);
    }
  });

  it("says how to build the dashboard when there is no build", async () => {
    const page = await call("/", "GET", join(dir, "nowhere"));
    expect(page).toMatchObject({ handled: true, statusCode: 404 });
    expect(page.body).toContain("npm run build:web");
  });
});
