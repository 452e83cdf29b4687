import { execFile } from "node:child_process";
import { access } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsFile, KEYS } from "../support/auth.js";
import { startTestServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const PYTHON = join(ROOT, ".venv/bin/python");

/** A Python daemon with stubs generated from the protos by grpcio-tools, calling over gRPC. */
describe("generated Python stubs", () => {
  let muster: TestServer;
  let secured: TestServer;
  let file: Awaited<ReturnType<typeof credentialsFile>>;
  beforeAll(async () => {
    await access(PYTHON).catch(() => {
      throw new Error(`${PYTHON} is missing: run scripts/install-test-deps.sh`);
    });
    muster = await startTestServer();
    file = await credentialsFile();
    secured = await startTestServer({}, { credentials: await file.load() });
  });
  afterAll(async () => {
    await muster?.close();
    await secured?.close();
    await file?.remove();
  });

  it("calls every unary RPC and reads INVALID_ARGUMENT with its subcode", async () => {
    const { stdout } = await run(PYTHON, [
      join(ROOT, "test/python/client.py"),
      join(ROOT, "proto"),
      `127.0.0.1:${muster.port}`,
    ]);
    expect(stdout.trim()).toBe("ok: every RPC answered as expected");
  }, 60_000);

  it("logs in with Basic credentials (AuthService/Login) and sends the token with every call", async () => {
    const { accessKey, secretKey } = KEYS.globexUser;
    const { stdout } = await run(PYTHON, [
      join(ROOT, "test/python/client.py"),
      join(ROOT, "proto"),
      `127.0.0.1:${secured.port}`,
      accessKey,
      secretKey,
    ]);
    expect(stdout.trim()).toBe("ok: every RPC answered as expected");
  }, 60_000);
});
