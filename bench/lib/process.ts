import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import * as net from "node:net";
import { freePort, waitUntil } from "../../test/harness/server-process.js";

/** Until muster accepts connections on `port`; fails at once if it exits first. */
function waitForPort(port: number, child: ChildProcess): Promise<void> {
  const accepts = () => {
    if (child.exitCode !== null) throw new Error(`muster exited with ${child.exitCode}`);
    return new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
  };
  return waitUntil(accepts, 30_000, `muster did not listen on ${port}`);
}

export interface MusterProcess {
  readonly port: number;
  readonly address: string;
  readonly url: string;
  readonly pid: number;
  /** Resident set size in MB, from /proc. */
  rssMb(): Promise<number>;
  stop(): Promise<void>;
}

/** Which build runs: another worktree's dist/main.js lets a run compare old and new side by side. */
const MUSTER_MAIN = process.env.MUSTER_MAIN ?? "dist/main.js";

/**
 * The node flags `npm start` runs muster with, read from package.json's start script, so that
 * the benches measure muster as it is launched by default.
 */
export function startScriptNodeFlags(): string[] {
  const scripts = JSON.parse(readFileSync("package.json", "utf8")).scripts as { start: string };
  const launch = /\bnode((?: --[^\s]+)*) dist\/main\.js/.exec(scripts.start);
  if (launch === null)
    throw new Error(`no "node … dist/main.js" in the start script: ${scripts.start}`);
  return (launch[1] ?? "").split(" ").filter((flag) => flag !== "");
}

/**
 * muster as its own process (dist/main.js on this Node), so its RSS and CPU are its own; with the
 * start script's node flags unless others are given.
 */
export async function startMusterProcess(
  flags: readonly string[],
  nodeArgs: readonly string[] = startScriptNodeFlags(),
): Promise<MusterProcess> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [...nodeArgs, MUSTER_MAIN, "--listen", `127.0.0.1:${port}`, "--log-level", "warn", ...flags],
    { stdio: ["ignore", "inherit", "inherit"] },
  );
  await waitForPort(port, child);
  return {
    port,
    address: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    async rssMb() {
      const status = await readFile(`/proc/${child.pid}/status`, "utf8");
      const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
      return Math.round(kb / 1024);
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
