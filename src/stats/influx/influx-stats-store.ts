import {
  type ActivityQuery,
  type ActivityRow,
  byCategory,
  type MetricCategory,
  type Report,
  type StatsQuery,
  type StatsRow,
  type StatsStore,
} from "../../core/stats-store.js";
import { Aggregation } from "../../gen/muster/workers/v1/types_pb.js";
import { DEFAULT_GROUP_COMMIT, GroupCommit, type GroupCommitOptions } from "./group-commit.js";
import { type ActivitySources, planActivity } from "./influx-activity.js";
import { InfluxHttp } from "./influx-http.js";
import {
  ACTIVITY_MEASUREMENT,
  ACTIVITY_ROLLUP_MEASUREMENT,
  RETENTION_POLICY,
  reportLines,
  STATS_MEASUREMENT,
} from "./influx-schema.js";
import { ensureDatabase } from "./influx-setup.js";
import { durationLiteral, equalsAny, Params, quoteIdent, timeLiteral } from "./influxql.js";
import { decodeTagValue, encodeTagValue } from "./line-protocol.js";

export interface InfluxStatsOptions {
  /** InfluxDB's HTTP API, e.g. http://127.0.0.1:8086 */
  readonly url: string;
  readonly database: string;
  /** How long InfluxDB keeps samples (muster's retention policy), ms; at least 1 h. */
  readonly retentionMs: number;
  /** Per HTTP request to InfluxDB, ms. */
  readonly timeoutMs?: number;
  readonly groupCommit?: GroupCommitOptions;
}

/** The InfluxQL function computing each aggregation; anything but min and max is the mean. */
function functionOf(aggregation: Aggregation): "mean" | "min" | "max" {
  if (aggregation === Aggregation.MIN) return "min";
  if (aggregation === Aggregation.MAX) return "max";
  return "mean";
}

/**
 * Machine statistics in InfluxDB through its v1 HTTP API: reports are group-committed as line
 * protocol to /write, and every answer is aggregated by InfluxDB (InfluxQL GROUP BY time(), whose
 * buckets are aligned to the epoch); Node only turns the series into rows and merges the worker
 * lists of at most two activity buckets (see influx-activity.ts).
 * Every query is bound to the caller's company by a bound parameter.
 */
export class InfluxStatsStore implements StatsStore {
  private readonly commit: GroupCommit;
  private readonly stats_: string;
  private readonly activitySources: ActivitySources;

  private constructor(
    private readonly http: InfluxHttp,
    readonly version: string,
    groupCommit: GroupCommitOptions,
  ) {
    this.commit = new GroupCommit((body) => http.write(body, RETENTION_POLICY), groupCommit);
    this.stats_ = `${quoteIdent(RETENTION_POLICY)}.${quoteIdent(STATS_MEASUREMENT)}`;
    this.activitySources = {
      reports: `${quoteIdent(RETENTION_POLICY)}.${quoteIdent(ACTIVITY_MEASUREMENT)}`,
      rollup: `${quoteIdent(RETENTION_POLICY)}.${quoteIdent(ACTIVITY_ROLLUP_MEASUREMENT)}`,
    };
  }

  /**
   * Connects, then creates the database and retention policy when missing. Fails with a
   * one-line message when InfluxDB cannot be reached or refuses.
   */
  static async open(options: InfluxStatsOptions): Promise<InfluxStatsStore> {
    const http = new InfluxHttp(options.url, options.database, options.timeoutMs);
    const version = await http.ping();
    try {
      await ensureDatabase(http, options.retentionMs);
    } catch (error) {
      throw new Error(
        `InfluxDB at ${options.url}: cannot set up database ${JSON.stringify(options.database)}: ${(error as Error).message}`,
      );
    }
    return new InfluxStatsStore(http, version, options.groupCommit ?? DEFAULT_GROUP_COMMIT);
  }

  record(report: Report): Promise<void> {
    let lines: string[];
    try {
      lines = reportLines(report);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.commit.submit(lines);
  }

  async *stats(query: StatsQuery): AsyncIterable<StatsRow> {
    const workers = selectedWorkers(query.workers);
    const lo = Math.ceil(query.range.fromMs);
    const hi = Math.floor(query.range.toMs);
    if (workers?.length === 0 || query.metrics.length === 0 || lo > hi) return;

    const functions = [
      ...new Set(query.metrics.flatMap((m) => m.aggregations.map(functionOf))),
    ].sort();
    const params = new Params();
    const where = [
      `"company" = ${params.bind(encodeTagValue(query.company))}`,
      equalsAny(
        "metric",
        query.metrics.map((m) => encodeTagValue(m.metric)),
        params,
      ),
      ...(workers === undefined ? [] : [equalsAny("worker", workers.map(encodeTagValue), params)]),
      `time >= ${timeLiteral(lo)}`,
      `time <= ${timeLiteral(hi)}`,
    ];
    const groupBy = [`time(${durationLiteral(query.range.intervalMs)})`, `"worker"`, `"metric"`];
    if (query.splitByVariant) groupBy.push(`"variant"`);
    const text =
      `SELECT ${functions.map((f) => `${f}("value") AS ${quoteIdent(f)}`).join(", ")}` +
      ` FROM ${this.stats_} WHERE ${where.join(" AND ")}` +
      ` GROUP BY ${groupBy.join(", ")} fill(none)`;
    const [result] = await this.http.query(text, params);
    const asked = new Map(query.metrics.map((m) => [m.metric, m.aggregations]));
    for (const series of result?.series ?? []) {
      const worker = decodeTagValue(series.tags?.worker ?? "");
      const metric = decodeTagValue(series.tags?.metric ?? "");
      const variant = query.splitByVariant ? decodeTagValue(series.tags?.variant ?? "") : undefined;
      for (const aggregation of asked.get(metric) ?? []) {
        const column = series.columns.indexOf(functionOf(aggregation));
        for (const row of series.values) {
          const value = row[column];
          yield {
            worker,
            metric,
            variant,
            aggregation,
            bucketMs: Number(row[0]),
            value: typeof value === "number" ? value : Number.NaN,
          };
        }
      }
    }
  }

  async *activity(query: ActivityQuery): AsyncIterable<ActivityRow> {
    const plan = planActivity(this.activitySources, query.company, query.range);
    const results = plan.text === undefined ? [] : await this.http.query(plan.text, plan.params);
    yield* plan.read(results);
  }
  async metricKeys(company: string, workers: readonly string[]): Promise<MetricCategory[]> {
    const selected = selectedWorkers(workers);
    if (selected?.length === 0) return [];
    const params = new Params();
    let text =
      `SHOW TAG VALUES FROM ${this.stats_} WITH KEY = "metric"` +
      ` WHERE "company" = ${params.bind(encodeTagValue(company))}`;
    if (selected !== undefined) {
      text += ` AND ${equalsAny("worker", selected.map(encodeTagValue), params)}`;
    }
    const [result] = await this.http.query(text, params);
    const recorded: string[] = [];
    for (const series of result?.series ?? []) {
      const valueColumn = series.columns.indexOf("value");
      for (const row of series.values) recorded.push(decodeTagValue(String(row[valueColumn])));
    }
    return byCategory(recorded);
  }

  /** Writes what is queued, then refuses further records. */
  async close(): Promise<void> {
    await this.commit.close();
  }
}

/**
 * The worker ids to filter on: undefined for "every worker" (none named), else the distinct
 * non-empty ids (an empty id can name no stored series; empty after that means no match).
 */
function selectedWorkers(workers: readonly string[]): string[] | undefined {
  if (workers.length === 0) return undefined;
  return [...new Set(workers)].filter((w) => w !== "");
}
