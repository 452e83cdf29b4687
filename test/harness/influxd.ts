import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";

/** A real InfluxDB 1.x `influxd` on loopback ports, its meta, data and WAL in a temporary directory. */
export interface InfluxdHandle {
  /** The HTTP API, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  readonly dir: string;
  /** Stops the process; the directory stays, so `start` brings the same data back. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and directory. */
  start(): Promise<void>;
  /** Stops it and removes the directory. */
  close(): Promise<void>;
}

const INSTALL_HINT =
  "install Debian's influxdb package (`apt-get install -y influxdb`) or set INFLUXD_BIN";

/**
 * The influxd binary: $INFLUXD_BIN, else `influxd` on PATH, else /usr/bin/influxd. Throws when
 * there is none: the InfluxDB tests must fail, not skip, on a machine without it.
 */
export function influxdBinary(env: NodeJS.ProcessEnv = process.env): string {
  const explicit = env.INFLUXD_BIN;
  if (explicit !== undefined && explicit !== "") {
    if (!isExecutable(explicit)) throw new Error(`INFLUXD_BIN=${explicit} is not executable`);
    return explicit;
  }
  const candidates = (env.PATH ?? "")
    .split(path.delimiter)
    .filter((dir) => dir !== "")
    .map((dir) => path.join(dir, "influxd"));
  candidates.push("/usr/bin/influxd");
  const found = candidates.find(isExecutable);
  if (found === undefined) throw new Error(`influxd not found: ${INSTALL_HINT}`);
  return found;
}

/**
 * The configuration: everything under `dir`, HTTP and the RPC (backup) service on loopback only,
 * and nothing that writes or phones home on its own (usage reporting, _internal monitor, CQs).
 * Debian's build reads `reporting-enabled`, upstream's `reporting-disabled`; unknown keys are
 * ignored, so both are set.
 */
function config(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-enabled = false
reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"

[meta]
  dir = ${JSON.stringify(path.join(dir, "meta"))}
  logging-enabled = false

[data]
  dir = ${JSON.stringify(path.join(dir, "data"))}
  wal-dir = ${JSON.stringify(path.join(dir, "wal"))}
  query-log-enabled = false

[monitor]
  store-enabled = false

[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  pprof-enabled = false

[logging]
  level = "error"
  suppress-logo = true

[continuous_queries]
  enabled = false

[subscriber]
  enabled = false
`;
}

export async function startInfluxd(): Promise<InfluxdHandle> {
  const binary = influxdBinary();
  const dir = await mkdtemp(path.join(tmpdir(), "muster-influxd-"));
  const httpPort = await freePort();
  const rpcPort = await freePort();
  const configFile = path.join(dir, "influxdb.conf");
  await writeFile(configFile, config(dir, httpPort, rpcPort));
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;

  const start = async () => {
    if (child !== undefined) throw new Error("influxd is already running");
    const proc = spawn(binary, ["-config", configFile], { stdio: ["ignore", "ignore", "pipe"] });
    child = proc;
    let stderr = "";
    proc.stderr?.on("data", (chunk: Buffer) => {
      // Keep the tail only: it is for the error message when the server fails to start.
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<never>((_, reject) => {
      proc.once("exit", (code, signal) =>
        reject(new Error(`influxd exited (${code ?? signal}) while starting:\n${stderr}`)),
      );
      proc.once("error", reject);
    });
    exited.catch(() => undefined);
    try {
      await Promise.race([waitForPing(url, 30_000), exited]);
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
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    url,
    dir,
    stop,
    start,
    async close() {
      await stop();
      await rm(dir, { recursive: true, force: true });
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

/** Until GET /ping answers 204: then influxd has opened its stores and serves queries. */
async function waitForPing(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 204) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`influxd did not answer ${url}/ping within ${timeoutMs} ms`);
}

async function stopProcess(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGTERM");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}
