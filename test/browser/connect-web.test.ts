import { mkdtemp, readFile, rm } from "node:fs/promises";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsFile, KEYS } from "../support/auth.js";
import { startTestServer, type TestServer } from "../support/server.js";

const CHROMIUM = process.env.CHROMIUM_BIN ?? "/usr/bin/chromium";
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** Bundles test/browser/client.ts for the browser, as a UI's build would. */
async function bundleClient(): Promise<string> {
  const outDir = await mkdtemp(join(tmpdir(), "muster-browser-"));
  try {
    await build({
      logLevel: "silent",
      configFile: false,
      build: {
        outDir,
        emptyOutDir: true,
        minify: false,
        lib: {
          entry: new URL("./client.ts", import.meta.url).pathname,
          formats: ["iife"],
          name: "client",
          fileName: () => "client.js",
        },
      },
    });
    return await readFile(join(outDir, "client.js"), "utf8");
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

/** A page on its own origin that loads the bundle, like a UI served apart from muster. */
async function servePage(script: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.url === "/client.js") {
      res.writeHead(200, { "content-type": "text/javascript" }).end(script);
    } else {
      res
        .writeHead(200, { "content-type": "text/html" })
        .end('<!doctype html><script src="/client.js"></script>');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe("connect-web in headless Chromium", () => {
  let page: Awaited<ReturnType<typeof servePage>>;
  let allowed: TestServer;
  let closed: TestServer;
  let secured: TestServer;
  let file: Awaited<ReturnType<typeof credentialsFile>>;
  let browser: Browser;

  beforeAll(async () => {
    page = await servePage(await bundleClient());
    allowed = await startTestServer({}, { corsOrigins: [page.url] });
    closed = await startTestServer();
    file = await credentialsFile();
    secured = await startTestServer(
      {},
      { corsOrigins: [page.url], credentials: await file.load() },
    );
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_FLAGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([allowed?.close(), closed?.close(), secured?.close(), page?.close()]);
    await file?.remove();
  });

  it("calls every kind of RPC over Connect and gRPC-Web from another origin", async () => {
    const tab = await browser.newPage();
    await tab.goto(page.url);
    const result = await tab.evaluate(
      (url) => (globalThis as never as { runMuster: (u: string) => unknown }).runMuster(url),
      allowed.url,
    );
    const expected = (worker: string) => ({
      listed: [{ id: worker, tags: ["browser"] }],
      categories: ["cpu", "memory"],
      error: {
        code: "InvalidArgument",
        message: "timeout: timeout must not be negative",
        subcode: "1002",
      },
    });
    expect(result).toEqual({
      connect: expected("browser-connect"),
      grpcWeb: expected("browser-grpc-web"),
    });
  });

  it("logs in with Basic credentials and calls with the token, over Connect and gRPC-Web", async () => {
    const tab = await browser.newPage();
    await tab.goto(page.url);
    const { accessKey, secretKey } = KEYS.acmeUser;
    const result = await tab.evaluate(
      ([url, key, secret]) =>
        (
          globalThis as never as {
            runMusterLoggedIn: (u: string, k: string, s: string) => unknown;
          }
        ).runMusterLoggedIn(url, key, secret),
      [secured.url, accessKey, secretKey] as const,
    );
    expect(result).toMatchObject({
      refused: "Unauthenticated",
      tokenSegments: 3,
      connect: { listed: [{ id: "browser-connect", tags: ["browser"] }] },
      grpcWeb: { listed: [{ id: "browser-grpc-web", tags: ["browser"] }] },
    });
  });

  it("is refused by the browser when muster does not allow the page's origin", async () => {
    const tab = await browser.newPage();
    await tab.goto(page.url);
    const outcome = await tab.evaluate(
      (url) =>
        (globalThis as never as { tryMuster: (u: string) => Promise<string> }).tryMuster(url),
      closed.url,
    );
    expect(outcome).toMatch(/^failed: /);
  });
});
