import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findBinary, freePort, serverProcess, waitUntil } from "./server-process.js";

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

/**
 * The influxd binary: $INFLUXD_BIN, else `influxd` on PATH, else /usr/bin/influxd. Throws when
 * there is none: the InfluxDB tests must fail, not skip, on a machine without it.
 */
export function influxdBinary(env: NodeJS.ProcessEnv = process.env): string {
  return findBinary(
    {
      name: "influxd",
      envVar: "INFLUXD_BIN",
      fallbacks: ["/usr/bin/influxd"],
      installHint:
        "install Debian's influxdb package (`apt-get install -y influxdb`) or set INFLUXD_BIN",
    },
    env,
  );
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
  const server = serverProcess({
    name: "influxd",
    binary,
    args: ["-config", configFile],
    dir,
    // /ping answers 204 once influxd has opened its stores and serves queries.
    waitReady: () => waitUntil(() => pings(url), 30_000, `influxd did not answer ${url}/ping`),
    killAfterMs: 10_000,
  });
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return { url, dir, ...server };
}

async function pings(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 204;
  } catch {
    return false; // not listening yet
  }
}
