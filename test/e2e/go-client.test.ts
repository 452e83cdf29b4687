import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { credentialsFile, KEYS } from "../support/auth.js";
import { startTestServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;

/** A Go daemon built from the generated Go stubs (gen/go), calling muster over plain gRPC. */
describe("generated Go stubs", () => {
  let muster: TestServer;
  let secured: TestServer;
  let file: Awaited<ReturnType<typeof credentialsFile>>;
  let dir: string;
  let client: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "muster-go-"));
    client = join(dir, "client");
    // The first build fetches grpc-go through the module proxy and compiles it.
    await run("go", ["build", "-o", client, "./test/go/client"], { cwd: ROOT });
    muster = await startTestServer();
    file = await credentialsFile();
    secured = await startTestServer({}, { credentials: await file.load() });
  }, 300_000);
  afterAll(async () => {
    await muster?.close();
    await secured?.close();
    await file?.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it("calls every unary RPC and reads INVALID_ARGUMENT with its subcode", async () => {
    const { stdout } = await run(client, [`127.0.0.1:${muster.port}`]);
    expect(stdout.trim()).toBe("ok: every RPC answered as expected");
  });

  it("logs in with Basic credentials (AuthService/Login) and sends the token with every call", async () => {
    const { accessKey, secretKey } = KEYS.acmeUser;
    const { stdout } = await run(client, [`127.0.0.1:${secured.port}`, accessKey, secretKey]);
    expect(stdout.trim()).toBe("ok: every RPC answered as expected");
  });
});
