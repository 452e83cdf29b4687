import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { rm } from "node:fs/promises";
import * as net from "node:net";
import * as path from "node:path";

/**
 * A server binary: $<envVar>, else `name` on PATH, else the fallbacks. Throws when there is none:
 * tests that need the server must fail, not skip, on a machine without it.
 */
export function findBinary(
  options: { name: string; envVar: string; fallbacks: readonly string[]; installHint: string },
  env: NodeJS.ProcessEnv = process.env,
): string {
  const explicit = env[options.envVar];
  if (explicit !== undefined && explicit !== "") {
    if (!isExecutable(explicit)) throw new Error(`${options.envVar}=${explicit} is not executable`);
    return explicit;
  }
  const candidates = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => path.join(dir, options.name));
  const found = [...candidates, ...options.fallbacks].find(isExecutable);
  if (found === undefined) throw new Error(`${options.name} not found: ${options.installHint}`);
  return found;
}

/** Where `go install` puts a binary: $GOPATH/bin, by default ~/go/bin. */
export function goInstalled(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const goPath = env.GOPATH ?? path.join(env.HOME ?? "/root", "go");
  return path.join(goPath, "bin", name);
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A server process tests can stop and start again on the same ports and data directory. */
export interface ServerProcess {
  /** Starts it and waits until it serves; fails with the tail of its stderr if it exits first. */
  start(): Promise<void>;
  /** Stops it (SIGTERM, then SIGKILL); the data directory stays. */
  stop(): Promise<void>;
  /** Kills it at once (SIGKILL: no shutdown at all, as a crash); the data directory stays. */
  kill(): Promise<void>;
  /** Stops it and removes the data directory. */
  close(): Promise<void>;
}

export function serverProcess(options: {
  readonly name: string;
  readonly binary: string;
  readonly args: readonly string[];
  /** Removed by close(). */
  readonly dir: string;
  /** Resolves once the server serves; rejects after `timeoutMs`. */
  readonly waitReady: () => Promise<void>;
  readonly killAfterMs: number;
}): ServerProcess {
  let child: ChildProcess | undefined;

  const stop = async () => {
    const proc = child;
    child = undefined;
    if (proc !== undefined) await stopProcess(proc, options.killAfterMs);
  };

  return {
    async start() {
      if (child !== undefined) throw new Error(`${options.name} is already running`);
      const proc = spawn(options.binary, options.args, { stdio: ["ignore", "ignore", "pipe"] });
      child = proc;
      let stderr = "";
      proc.stderr?.on("data", (chunk: Buffer) => {
        // Keep the tail only: it is for the error message when the server fails to start.
        stderr = (stderr + chunk.toString()).slice(-4000);
      });
      const exited = new Promise<never>((_, reject) => {
        proc.once("exit", (code, signal) =>
          reject(
            new Error(`${options.name} exited (${code ?? signal}) while starting:\n${stderr}`),
          ),
        );
        proc.once("error", reject);
      });
      exited.catch(() => undefined);
      try {
        await Promise.race([options.waitReady(), exited]);
      } catch (error) {
        await stopProcess(proc, options.killAfterMs);
        child = undefined;
        throw error;
      }
    },
    stop,
    async kill() {
      const proc = child;
      child = undefined;
      if (proc !== undefined) await stopProcess(proc, 0);
    },
    async close() {
      await stop();
      await rm(options.dir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` every 50 ms until it is true, or throws `what` after `timeoutMs`. */
export async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${what} within ${timeoutMs} ms`);
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function stopProcess(proc: ChildProcess, killAfterMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  if (killAfterMs === 0) {
    proc.kill("SIGKILL");
    await exited;
    return;
  }
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), killAfterMs);
  await exited;
  clearTimeout(timer);
}
