/**
 * Machine statistics in InfluxDB 2.x (or 1.8+ through its 2.x-compatible API). Reports are
 * group-committed through the official client's WriteApi (writer.ts: a report is acknowledged only
 * once the batch carrying it is written); get_stats, get_activity_report and get_metric_keys are
 * asked in Flux (flux-reader.ts, the default) or in InfluxQL through the v1 /query endpoint
 * (influxql-reader.ts), both over the same series (influx-schema.ts). Every query is bound to the
 * caller's company.
 */
import { InfluxDB } from "@influxdata/influxdb-client";
import type { Logger } from "pino";
import type {
  ActivityQuery,
  ActivityRow,
  MetricCategory,
  Report,
  StatsQuery,
  StatsRow,
  StatsStore,
} from "../../core/stats-store.js";
import { routeClientLog } from "./client-log.js";
import { FluxReader } from "./flux-reader.js";
import type { GroupCommitOptions } from "./group-commit.js";
import { InfluxHttp } from "./influx-http.js";
import { reportLines } from "./influx-schema.js";
import { v1NamesOf } from "./influxql.js";
import { InfluxqlReader } from "./influxql-reader.js";
import { RollupMemo } from "./rollup-memo.js";
import { checkFlux, ensureBucket, type InfluxServer } from "./setup.js";
import { InfluxWriter } from "./writer.js";

export type QueryLanguage = "flux" | "influxql";

import type { Readiness, StoreMetrics } from "../../core/store-health.js";
import { InfluxProbe } from "./influx-probe.js";

export interface InfluxStatsOptions {
  /** InfluxDB's HTTP API, e.g. http://127.0.0.1:8086 */
  readonly url: string;
  /** 2.x: an API token; 1.8+: `user:password`, or empty without authentication. */
  readonly token: string;
  /** 2.x only (1.x ignores it). */
  readonly org: string;
  /** 2.x: the bucket's name (also its v1 database name); 1.8+: `database/retention-policy`. */
  readonly bucket: string;
  readonly query: QueryLanguage;
  /** The retention of a bucket (or 1.x retention policy) muster creates; existing ones keep theirs. */
  readonly retentionMs: number;
  /** Per write and startup request to InfluxDB, ms (default 10 s). */
  readonly timeoutMs?: number;
  /**
   * Per query, ms (default 120 s): InfluxQL answers only once the whole result is computed, and
   * a large get_stats can take tens of seconds (BENCHMARKS.md); a slow answer beats none.
   */
  readonly queryTimeoutMs?: number;
  readonly groupCommit?: GroupCommitOptions;
  /** Write retries after a failed attempt (5xx, 429, network), and how long they may take, ms. */
  readonly writeRetries?: number;
  readonly writeRetryTimeMs?: number;
  /** Where the client's own log lines go (the client's console logger otherwise). */
  readonly log?: Logger;
}

/** What the store reads with: Flux or InfluxQL, over the same series. */
interface Reader {
  stats(query: StatsQuery): AsyncIterable<StatsRow>;
  activity(query: ActivityQuery): AsyncIterable<ActivityRow>;
  metricKeys(company: string, workers: readonly string[]): Promise<MetricCategory[]>;
}

export class InfluxStatsStore implements StatsStore {
  readonly backend = "influx";
  private readonly probe: InfluxProbe;
  private readonly rollups = new RollupMemo();

  private constructor(
    private readonly writer: InfluxWriter,
    private readonly reader: Reader,
    /** The server's version and major version, as the startup check found them. */
    readonly server: InfluxServer,
    url: string,
  ) {
    this.probe = new InfluxProbe(url);
  }

  /**
   * Checks the server, the token and the bucket (creating it where the token may), and that Flux
   * runs when it is the query language. Fails with one line naming the fix.
   */
  static async open(options: InfluxStatsOptions): Promise<InfluxStatsStore> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const queryTimeoutMs = options.queryTimeoutMs ?? 120_000;
    if (options.log !== undefined) routeClientLog(options.log);
    const target = { ...options, timeoutMs };
    const server = await ensureBucket(target);
    const clientFor = (timeout: number) =>
      new InfluxDB({
        url: options.url,
        timeout,
        ...(options.token === "" ? {} : { token: options.token }),
      });
    const client = clientFor(timeoutMs);
    let reader: Reader;
    if (options.query === "flux") {
      // gzip halves the transfer of large answers, even on loopback (BENCHMARKS.md).
      const queryApi = clientFor(queryTimeoutMs).getQueryApi(options.org).with({ gzip: true });
      await checkFlux(target, queryApi);
      reader = new FluxReader(queryApi, options.bucket);
    } else {
      const { database, retentionPolicy } = v1NamesOf(options.bucket);
      reader = new InfluxqlReader(
        new InfluxHttp(options.url, options.token, database, queryTimeoutMs),
        retentionPolicy,
      );
    }
    const writer = new InfluxWriter(
      client,
      {
        org: options.org,
        bucket: options.bucket,
        ...(options.groupCommit === undefined ? {} : { groupCommit: options.groupCommit }),
        ...(options.writeRetries === undefined ? {} : { maxRetries: options.writeRetries }),
        ...(options.writeRetryTimeMs === undefined
          ? {}
          : { maxRetryTimeMs: options.writeRetryTimeMs }),
      },
      timeoutMs,
    );
    return new InfluxStatsStore(writer, reader, server, options.url);
  }

  record(report: Report): Promise<void> {
    const { company, worker, timeMs } = report;
    const active = report.task !== undefined;
    const rollup = this.rollups.needs(company, worker, timeMs, active);
    let lines: string[];
    try {
      lines = reportLines(report, rollup);
    } catch (error) {
      return Promise.reject(error);
    }
    const written = this.writer.submit(lines);
    if (!rollup) return written;
    return written.then(() => this.rollups.wrote(company, worker, timeMs, active));
  }

  stats(query: StatsQuery): AsyncIterable<StatsRow> {
    return this.reader.stats(query);
  }

  activity(query: ActivityQuery): AsyncIterable<ActivityRow> {
    return this.reader.activity(query);
  }

  metricKeys(company: string, workers: readonly string[]): Promise<MetricCategory[]> {
    return this.reader.metricKeys(company, workers);
  }

  /** InfluxDB answers /ping (checked at most once a second). */
  ready(): Promise<Readiness> {
    return this.probe.check();
  }

  /** Times and counts each group-committed write from now on. */
  useMetrics(metrics: StoreMetrics): void {
    this.writer.useMetrics(metrics);
  }

  /** Writes what is queued, then refuses further records. */
  async close(): Promise<void> {
    await this.writer.close();
  }
}
