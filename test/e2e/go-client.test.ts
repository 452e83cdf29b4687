import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;

/** A Go daemon built from the generated Go stubs (gen/go), calling muster over plain gRPC. */
describe("generated Go stubs", () => {
  let muster: TestServer;
  let dir: string;
  let client: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "muster-go-"));
    client = join(dir, "client");
    // The first build fetches grpc-go through the module proxy and compiles it.
    await run("go", ["build", "-o", client, "./test/go/client"], { cwd: ROOT });
    muster = await startTestServer();
  }, 300_000);
  afterAll(async () => {
    await muster?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("calls every unary RPC and reads INVALID_ARGUMENT with its subcode", async () => {
    const { stdout } = await run(client, [`127.0.0.1:${muster.port}`]);
    expect(stdout.trim()).toBe("ok: every RPC answered as expected");
  });
});
