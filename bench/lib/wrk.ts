import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { LoadResult } from "./ghz.js";

const run = promisify(execFile);
const SCRIPT = new URL("../../../bench/wrk/status_report.lua", import.meta.url).pathname;

/** Runs wrk (HTTP/1.1, keep-alive) with ClearML-shaped status reports for `seconds`. */
export async function wrkStatusReports(options: {
  url: string;
  connections: number;
  seconds: number;
  workers: number;
  machineStats: unknown;
}): Promise<LoadResult> {
  const { stdout } = await run(
    process.env.WRK_BIN ?? "wrk",
    [
      "--threads",
      "2",
      "--connections",
      String(options.connections),
      "--duration",
      `${options.seconds}s`,
      "--script",
      SCRIPT,
      options.url,
    ],
    {
      env: {
        ...process.env,
        WORKERS: String(Math.ceil(options.workers / 2)),
        STATS: JSON.stringify(options.machineStats),
      },
    },
  );
  const line = stdout.split("\n").find((l) => l.startsWith("WRK_JSON "));
  if (line === undefined) throw new Error(`wrk printed no summary:\n${stdout}`);
  const r = JSON.parse(line.slice("WRK_JSON ".length)) as {
    requests: number;
    duration_us: number;
    errors: number;
    p50_us: number;
    p90_us: number;
    p99_us: number;
  };
  return {
    requests: r.requests,
    rps: Math.round(r.requests / (r.duration_us / 1e6)),
    p50Ms: r.p50_us / 1000,
    p90Ms: r.p90_us / 1000,
    p99Ms: r.p99_us / 1000,
    errors: r.errors,
  };
}
