import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findBinary, freePort, goInstalled, serverProcess, waitUntil } from "./server-process.js";

/**
 * A real InfluxDB 2.x `influxd` on a loopback port, its bolt, sqlite and engine files in a
 * temporary directory, onboarded with one org, bucket and operator token.
 */
export interface InfluxdHandle {
  /** The HTTP API, e.g. http://127.0.0.1:41234 (/api/v2 and the v1 /write and /query). */
  readonly url: string;
  readonly dir: string;
  readonly org: string;
  /** The bucket made at onboarding; its name is also the v1 database name (no DBRP needed). */
  readonly bucket: string;
  /** The operator token: `Authorization: Token <token>` on /api/v2 and the v1 endpoints. */
  readonly token: string;
  /** The org's id, for /api/v2 calls that want an id (buckets, dbrps). */
  readonly orgId: string;
  /** Stops the process; the directory stays, so `start` brings the same data back. */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Stops it and removes the directory. */
  close(): Promise<void>;
}

export interface InfluxdOptions {
  readonly org?: string;
  readonly bucket?: string;
  /** The onboarded bucket's retention, seconds; 0 keeps data forever. */
  readonly retentionSeconds?: number;
}

/**
 * The influxd binary: $INFLUXD_BIN, else `influxd` on PATH, else where
 * scripts/install-influxd.sh puts it. Throws when there is none: the InfluxDB tests must fail,
 * not skip, on a machine without it.
 */
export function influxdBinary(env: NodeJS.ProcessEnv = process.env): string {
  return findBinary(
    {
      name: "influxd",
      envVar: "INFLUXD_BIN",
      fallbacks: [goInstalled("influxd", env)],
      installHint: "run scripts/install-influxd.sh (builds influxd 2.7.12) or set INFLUXD_BIN",
    },
    env,
  );
}

/**
 * Starts influxd 2.x with everything under a fresh directory and nothing that phones home or
 * logs below errors, then onboards it (POST /api/v2/setup) once; `start` after `stop` reuses it.
 */
export async function startInfluxd(options: InfluxdOptions = {}): Promise<InfluxdHandle> {
  const binary = influxdBinary();
  const dir = await mkdtemp(path.join(tmpdir(), "muster-influxd-"));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const server = serverProcess({
    name: "influxd",
    binary,
    args: [
      "--bolt-path",
      path.join(dir, "influxd.bolt"),
      "--engine-path",
      path.join(dir, "engine"),
      "--sqlite-path",
      path.join(dir, "influxd.sqlite"),
      "--http-bind-address",
      `127.0.0.1:${port}`,
      "--reporting-disabled",
      "--log-level",
      "error",
      // INFLUXD_PPROF=1 keeps /debug/pprof on, to profile influxd under a bench or the simulator.
      ...(process.env.INFLUXD_PPROF === "1" ? [] : ["--pprof-disabled"]),
    ],
    dir,
    // /health answers 200 once the HTTP API and its stores are open.
    waitReady: () => waitUntil(() => healthy(url), 30_000, `influxd did not answer ${url}/health`),
    killAfterMs: 10_000,
  });
  try {
    await server.start();
    const org = options.org ?? "muster";
    const bucket = options.bucket ?? "muster";
    const token = randomBytes(24).toString("hex");
    const orgId = await onboard(url, {
      username: "muster",
      password: randomBytes(12).toString("hex"),
      org,
      bucket,
      token,
      retentionPeriodSeconds: options.retentionSeconds ?? 0,
    });
    return { url, dir, org, bucket, token, orgId, ...server };
  } catch (error) {
    await server.close();
    throw error;
  }
}

async function healthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) });
    await response.arrayBuffer();
    return response.status === 200;
  } catch {
    return false; // not listening yet
  }
}

/** The first-run setup: user, org, bucket and operator token. Resolves to the org's id. */
async function onboard(
  url: string,
  setup: {
    username: string;
    password: string;
    org: string;
    bucket: string;
    token: string;
    retentionPeriodSeconds: number;
  },
): Promise<string> {
  const response = await fetch(`${url}/api/v2/setup`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(setup),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  if (response.status !== 201) {
    throw new Error(`influxd onboarding answered ${response.status}: ${text}`);
  }
  const answer = JSON.parse(text) as { org?: { id?: string } };
  const orgId = answer.org?.id;
  if (orgId === undefined) throw new Error(`influxd onboarding gave no org id: ${text}`);
  return orgId;
}
