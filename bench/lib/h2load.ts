import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import type { DescMessage, MessageShape } from "@bufbuild/protobuf";
import { toBinary } from "@bufbuild/protobuf";
import type { LoadResult } from "./ghz.js";

const run = promisify(execFile);

/**
 * Sends the same gRPC request `requests` times with h2load (nghttp2's HTTP/2 load generator), one
 * at a time, and reads each request's latency from its per-request log. Used where answers are too
 * large for ghz's 4 MB receive limit (GetAll over a big fleet).
 */
export async function h2loadGrpc<Desc extends DescMessage>(options: {
  url: string;
  path: string;
  schema: Desc;
  request: MessageShape<Desc>;
  requests: number;
  /** Connections and streams in flight on each; one request at a time when left out. */
  concurrency?: { clients: number; streams: number };
}): Promise<LoadResult & { bytesPerResponse: number }> {
  const dir = await mkdtemp(join(tmpdir(), "h2load-"));
  try {
    const message = toBinary(options.schema, options.request);
    const frame = Buffer.alloc(5 + message.length);
    frame.writeUInt32BE(message.length, 1);
    frame.set(message, 5);
    const body = join(dir, "request.bin");
    const log = join(dir, "requests.log");
    await writeFile(body, frame);
    const { stdout } = await run(process.env.H2LOAD_BIN ?? "h2load", [
      "--requests",
      String(options.requests),
      "--clients",
      String(options.concurrency?.clients ?? 1),
      "--max-concurrent-streams",
      String(options.concurrency?.streams ?? 1),
      "--data",
      body,
      "--header",
      "content-type: application/grpc",
      "--header",
      "te: trailers",
      "--log-file",
      log,
      `${options.url}${options.path}`,
    ]);
    const latencies = (await readFile(log, "utf8"))
      .trim()
      .split("\n")
      .map((line) => line.split("\t"))
      .filter((cols) => cols[1] === "200")
      .map((cols) => Number(cols[2]) / 1000)
      .sort((a, b) => a - b);
    const at = (p: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ??
      Number.NaN;
    const traffic = /traffic: .*?(\d+) bytes total/.exec(stdout);
    const total = latencies.reduce((a, b) => a + b, 0);
    // Concurrent requests overlap: the rate is h2load's own, over the wall clock.
    const wallRps = Number(/finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(stdout)?.[1]);
    return {
      requests: latencies.length,
      rps: Math.round(options.concurrency ? wallRps : (latencies.length / total) * 1000),
      p50Ms: Math.round(at(50) * 100) / 100,
      p90Ms: Math.round(at(90) * 100) / 100,
      p99Ms: Math.round(at(99) * 100) / 100,
      errors: options.requests - latencies.length,
      bytesPerResponse: traffic ? Math.round(Number(traffic[1]) / options.requests) : Number.NaN,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
