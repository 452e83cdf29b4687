import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const GHZ = process.env.GHZ_BIN ?? "ghz";

export interface LoadResult {
  readonly requests: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

interface GhzReport {
  count: number;
  rps: number;
  latencyDistribution: { percentage: number; latency: number }[] | null;
  statusCodeDistribution: Record<string, number>;
  errorDistribution?: Record<string, number> | null;
}

/**
 * Runs ghz (a Go gRPC load generator) against one RPC, using server reflection for the schema.
 * `data` is one request, or a list that ghz cycles through; ghz templates like
 * {{.TimestampUnixMilli}} and {{.RequestNumber}} work inside it.
 */
export async function ghz(options: {
  address: string;
  method: string;
  data: unknown;
  concurrency: number;
  requests: number;
  /** Per call (ghz's own default is 20 s); e.g. "120s" for slow queries. */
  timeout?: string;
}): Promise<LoadResult> {
  const dataFile = join(tmpdir(), `ghz-${process.pid}-${Date.now()}.json`);
  await writeFile(dataFile, JSON.stringify(options.data));
  const { stdout } = await run(
    GHZ,
    [
      "--insecure",
      "--call",
      options.method,
      "--data-file",
      dataFile,
      "--concurrency",
      String(options.concurrency),
      "--total",
      String(options.requests),
      "--connections",
      String(Math.min(options.concurrency, 4)),
      "--timeout",
      options.timeout ?? "20s",
      "--format",
      "json",
      options.address,
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const report = JSON.parse(stdout) as GhzReport;
  const ok = report.statusCodeDistribution.OK ?? 0;
  // Say why calls failed: a benchmark of errors is no benchmark.
  for (const [error, count] of Object.entries(report.errorDistribution ?? {})) {
    console.error(`ghz ${options.method}: ${count} × ${error}`);
  }
  const percentile = (p: number) =>
    (report.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? Number.NaN) / 1e6;
  return {
    requests: report.count,
    rps: Math.round(report.rps),
    p50Ms: round(percentile(50)),
    p90Ms: round(percentile(90)),
    p99Ms: round(percentile(99)),
    errors: report.count - ok,
  };
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
