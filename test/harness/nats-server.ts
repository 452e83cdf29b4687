import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** A real nats-server with JetStream on a loopback port, its store in a temporary directory. */
export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the process (the store directory stays, so `start` brings the same data back). */
  stop(): Promise<void>;
  /** Starts it again on the same port and store directory. */
  start(): Promise<void>;
  /** Stops it and removes the store directory. */
  close(): Promise<void>;
}

const INSTALL_HINT =
  "install it with `go install github.com/nats-io/nats-server/v2@v2.15.2` or set NATS_SERVER_BIN";

/**
 * The nats-server binary: $NATS_SERVER_BIN, else `nats-server` on PATH, else Go's default install
 * directory. Throws when there is none: these tests must fail, not skip, on a machine without it.
 */
export function natsServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.NATS_SERVER_BIN;
  if (explicit !== undefined && explicit !== "") {
    if (!isExecutable(explicit)) throw new Error(`NATS_SERVER_BIN=${explicit} is not executable`);
    return explicit;
  }
  const candidates = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => path.join(dir, "nats-server"));
  const goBin = path.join(env.GOPATH ?? path.join(env.HOME ?? "/root", "go"), "bin", "nats-server");
  candidates.push(goBin, "/root/go/bin/nats-server");
  const found = candidates.find(isExecutable);
  if (found === undefined) throw new Error(`nats-server not found: ${INSTALL_HINT}`);
  return found;
}

export async function startNatsServer(): Promise<NatsServerHandle> {
  const binary = natsServerBinary();
  const storeDir = await mkdtemp(path.join(tmpdir(), "muster-nats-"));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child !== undefined) throw new Error("nats-server is already running");
    const args = ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir];
    const proc = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      // Keep the tail only: it is for the error message when the server fails to start.
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once("exit", (code, signal) =>
        reject(new Error(`nats-server exited (${code ?? signal}) while starting:\n${stderr}`)),
      );
      proc.once("error", reject);
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([waitForInfo(port, 15_000), exited]);
    } catch (error) {
      await stopProcess(proc);
      child = undefined;
      throw error;
    }
  };

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (proc !== undefined) await stopProcess(proc);
  };

  try {
    await start();
  } catch (error) {
    await rm(storeDir, { recursive: true, force: true });
    throw error;
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir,
    stop,
    start,
    async close() {
      await stop();
      await rm(storeDir, { recursive: true, force: true });
    },
  };
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Until the server greets a client with its INFO line: then it serves clients and JetStream. */
async function waitForInfo(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await greets(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nats-server did not accept connections on port ${port} within ${timeoutMs} ms`);
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("INFO ")));
  });
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}
