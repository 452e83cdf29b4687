import { create } from "@bufbuild/protobuf";
import { StatusReportRequestSchema } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { ghz, type LoadResult } from "./ghz.js";
import { h2loadGrpc } from "./h2load.js";
import type { MusterProcess } from "./process.js";
import { wrkStatusReports } from "./wrk.js";

export const CONCURRENCY = 32;
export const REPORTING_WORKERS = 1000;
const GRPC_REPORTS = Number(process.env.BENCH_REPORTS ?? 30_000);
const HTTP_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);

export interface StatusReportResults {
  readonly grpc: LoadResult;
  readonly http: LoadResult;
}

/**
 * status_report load on one muster: gRPC with ghz (after a warm-up that registers every worker),
 * then the ClearML HTTP path with wrk. `grpcStats` and `httpStats` are the same machine stats in
 * proto JSON (camelCase) and ClearML JSON (snake_case).
 */
export async function measureStatusReports(
  muster: MusterProcess,
  report: { task?: string; grpcStats?: object; httpStats: object | null },
): Promise<StatusReportResults> {
  const reports = Array.from({ length: REPORTING_WORKERS }, (_, i) => ({
    worker: `bench-${i}`,
    timestamp: "{{.TimestampUnixMilli}}",
    ...(report.task === undefined ? {} : { task: report.task }),
    ...(report.grpcStats === undefined ? {} : { machineStats: report.grpcStats }),
  }));
  const load = (concurrency: number, requests: number) =>
    ghz({
      address: muster.address,
      method: "muster.workers.v1.WorkersService/StatusReport",
      data: reports,
      concurrency,
      requests,
    });
  await load(8, 3000);
  const grpc = await load(CONCURRENCY, GRPC_REPORTS);
  const http = await wrkStatusReports({
    url: muster.url,
    connections: CONCURRENCY,
    seconds: HTTP_SECONDS,
    workers: REPORTING_WORKERS,
    machineStats: report.httpStats,
  });
  return { grpc, http };
}

/**
 * status_report over gRPC with h2load (C, nghttp2), CONCURRENCY calls in flight on 4 connections:
 * ghz's Go client costs more CPU per call than muster does, so on a small machine its rate is
 * ghz's limit, not muster's. One worker's report (h2load sends one body), no grpc-timeout.
 * h2load reads HTTP statuses only (a gRPC error is a 200 with grpc-status in the trailers), so
 * its error count is transport failures; the same call is checked by the e2e tests.
 */
export async function measureGrpcH2load(muster: MusterProcess): Promise<LoadResult> {
  const request = create(StatusReportRequestSchema, {
    worker: "bench-h2load",
    timestamp: BigInt(Date.now()),
  });
  const load = (requests: number, concurrency = { clients: 4, streams: CONCURRENCY / 4 }) =>
    h2loadGrpc({
      url: muster.url,
      path: "/muster.workers.v1.WorkersService/StatusReport",
      schema: StatusReportRequestSchema,
      request,
      requests,
      concurrency,
    });
  await load(3000);
  return load(GRPC_REPORTS);
}

export function logLoad(config: string, what: string, r: LoadResult): void {
  console.log(
    `${config.padEnd(11)} ${what}: ${r.requests} requests, ${r.rps}/s, p50 ${r.p50Ms} ms, p90 ${r.p90Ms} ms, p99 ${r.p99Ms} ms, errors ${r.errors}`,
  );
}

/** The side-by-side table of two configurations, with the second's share of the first. */
export function printComparison(
  title: string,
  [baseName, base]: [string, StatusReportResults],
  [otherName, other]: [string, StatusReportResults],
): void {
  console.log(`\n| ${title} | ${baseName} | ${otherName} | ${otherName} / ${baseName} |`);
  console.log("|---|---|---|---|");
  for (const path of ["grpc", "http"] as const) {
    const b = base[path];
    const o = other[path];
    console.log(
      `| ${path === "grpc" ? "gRPC (ghz)" : "ClearML HTTP (wrk)"} | ${b.rps}/s, p50 ${b.p50Ms} ms, p99 ${b.p99Ms} ms | ${o.rps}/s, p50 ${o.p50Ms} ms, p99 ${o.p99Ms} ms | ${Math.round((o.rps / b.rps) * 100)} % |`,
    );
  }
}
