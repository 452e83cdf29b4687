/**
 * Writes line protocol through the client's WriteApi (/api/v2/write) with group commit on top:
 * a report is acknowledged only once the batch carrying it was written. The client batches on a
 * timer and retries in the background, resolving nothing per caller, so each batch gets a WriteApi
 * of its own (a cheap object): its flush is the first attempt, its retry buffer holds only that
 * batch, and the batch settles on the client's writeSuccess, or rejects once the client gives up
 * (non-retriable answer, retries or retry time used up). A rejected batch rejects every caller in
 * it (UNAVAILABLE → 503): nothing is acknowledged that was not written.
 */
import { HttpError, type InfluxDB, type WriteApi } from "@influxdata/influxdb-client";
import { unavailable } from "../../core/errors.js";
import type { StoreMetrics } from "../../core/store-health.js";
import { DEFAULT_GROUP_COMMIT, GroupCommit, type GroupCommitOptions } from "./group-commit.js";

export interface InfluxWriterOptions {
  readonly org: string;
  /** 2.x: the bucket's name; 1.8+: `database/retention-policy`. */
  readonly bucket: string;
  readonly groupCommit?: GroupCommitOptions;
  /** Retries after a failed attempt (5xx, 429, network); 0 fails a batch on its first error. */
  readonly maxRetries?: number;
  /** How long a batch may be retried, ms: a caller waits at most this long (plus one request). */
  readonly maxRetryTimeMs?: number;
  /** First retry delay, ms; later ones grow ×2 up to maxRetryDelayMs. */
  readonly minRetryDelayMs?: number;
  readonly maxRetryDelayMs?: number;
}

export const DEFAULT_WRITE_RETRY = {
  maxRetries: 3,
  maxRetryTimeMs: 5_000,
  minRetryDelayMs: 100,
  maxRetryDelayMs: 1_000,
} as const;

export class InfluxWriter {
  private readonly commit: GroupCommit;
  private readonly retry: Required<
    Pick<
      InfluxWriterOptions,
      "maxRetries" | "maxRetryTimeMs" | "minRetryDelayMs" | "maxRetryDelayMs"
    >
  >;
  private readonly open = new Set<WriteApi>();
  private metrics: StoreMetrics | undefined;

  constructor(
    private readonly influx: InfluxDB,
    private readonly options: InfluxWriterOptions,
    /** The client's timeout per request, ms: bounds the wait beyond the retry time. */
    private readonly requestTimeoutMs = 10_000,
  ) {
    this.retry = {
      maxRetries: options.maxRetries ?? DEFAULT_WRITE_RETRY.maxRetries,
      maxRetryTimeMs: options.maxRetryTimeMs ?? DEFAULT_WRITE_RETRY.maxRetryTimeMs,
      minRetryDelayMs: options.minRetryDelayMs ?? DEFAULT_WRITE_RETRY.minRetryDelayMs,
      maxRetryDelayMs: options.maxRetryDelayMs ?? DEFAULT_WRITE_RETRY.maxRetryDelayMs,
    };
    this.commit = new GroupCommit(
      (body) => this.timedBatch(body.split("\n")),
      options.groupCommit ?? DEFAULT_GROUP_COMMIT,
    );
  }

  /** Queues lines (times in ms); resolves once InfluxDB accepted the batch carrying them. */
  submit(lines: readonly string[]): Promise<void> {
    return this.commit.submit(lines);
  }

  /** Writes what is queued, then refuses further lines and drops any retry still pending. */
  async close(): Promise<void> {
    await this.commit.close();
    for (const api of this.open) api.dispose();
    this.open.clear();
  }

  /** Times and counts each batch from now on (muster's metrics). */
  useMetrics(metrics: StoreMetrics): void {
    this.metrics = metrics;
  }

  private async timedBatch(lines: string[]): Promise<void> {
    const metrics = this.metrics;
    if (metrics === undefined) return this.writeBatch(lines);
    const started = performance.now();
    let failed = false;
    try {
      await this.writeBatch(lines);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      metrics.writeBatch(lines.length, (performance.now() - started) / 1000, failed);
    }
  }

  /** One batch through a WriteApi of its own; settles when the client is done with it. */
  private writeBatch(lines: string[]): Promise<void> {
    const { maxRetries, maxRetryTimeMs } = this.retry;
    return new Promise<void>((resolve, reject) => {
      let settled = false;
      const settle = (error?: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.open.delete(api);
        api.dispose();
        if (error === undefined) resolve();
        else reject(error);
      };
      const api = this.influx.getWriteApi(this.options.org, this.options.bucket, "ms", {
        batchSize: lines.length + 1, // never flushed by size: one flush sends the whole batch
        maxBatchBytes: Number.MAX_SAFE_INTEGER,
        flushInterval: 0,
        maxRetries,
        maxRetryTime: maxRetryTimeMs,
        maxBufferLines: lines.length,
        minRetryDelay: this.retry.minRetryDelayMs,
        maxRetryDelay: this.retry.maxRetryDelayMs,
        exponentialBase: 2,
        randomRetry: true,
        retryJitter: 50,
        gzipThreshold: Number.MAX_SAFE_INTEGER, // loopback or LAN: gzip costs more than it saves
        writeSuccess: () => settle(),
        writeFailed: (error, _lines, attempts, expires) => {
          // The client retries what it can (see WriteApiImpl.sendBatch); settle when it will not.
          const retriable = !(error instanceof HttpError) || error.statusCode >= 429;
          const willRetry = retriable && attempts <= maxRetries && expires > Date.now();
          if (!willRetry) settle(writeError(error, attempts));
        },
        writeRetrySkipped: () => settle(unavailable("stats store write dropped from retry buffer")),
      });
      this.open.add(api);
      // A guard, not the mechanism: no caller waits past the client's last possible attempt.
      const deadline = setTimeout(
        () => settle(unavailable(`stats store write not confirmed within ${maxRetryTimeMs} ms`)),
        maxRetryTimeMs + this.requestTimeoutMs + 1_000,
      );
      api.writeRecords(lines);
      // The first attempt's failure is also reported to writeFailed, which decides.
      api.flush().catch(() => undefined);
    });
  }
}

/** A write failure as muster reports it: 5xx and network failures are UNAVAILABLE. */
function writeError(error: Error, attempts: number): Error {
  const tries = `after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  if (error instanceof HttpError) {
    const detail = `InfluxDB answered the write with ${error.statusCode} ${tries}: ${error.body ?? error.message}`;
    return error.statusCode >= 500 || error.statusCode === 429
      ? unavailable(`stats store unavailable: ${detail}`)
      : new Error(`stats store refused the write: ${detail}`);
  }
  return unavailable(`stats store unreachable: InfluxDB write failed ${tries}: ${error.message}`);
}
