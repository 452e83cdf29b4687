/**
 * get_stats, get_activity_report and get_metric_keys in InfluxQL through the v1 /query endpoint,
 * for servers without Flux (InfluxDB 3, 1.x before 1.8) or by choice (--influx-query influxql).
 * It reads the series influx-schema.ts writes, like the Flux reader. Every aggregation is
 * InfluxDB's (GROUP BY time(), epoch-aligned); Node only turns series into rows and merges the
 * worker lists of at most two activity buckets (influx-activity.ts). Every value is a bound
 * parameter, the company's included.
 */
import {
  type ActivityQuery,
  type ActivityRow,
  byCategory,
  type MetricCategory,
  type StatsQuery,
  type StatsRow,
} from "../../core/stats-store.js";
import { fluxFunctionOf as functionOf, selectedWorkers } from "./flux.js";
import type { ActivitySources } from "./influx-activity.js";
import { planActivity } from "./influx-activity.js";
import type { InfluxHttp } from "./influx-http.js";
import {
  ACTIVITY_MEASUREMENT,
  ACTIVITY_ROLLUP_MEASUREMENT,
  STATS_MEASUREMENT,
} from "./influx-schema.js";
import { durationLiteral, equalsAny, Params, quoteIdent, timeLiteral } from "./influxql.js";
import { decodeTagValue, encodeTagValue } from "./line-protocol.js";

export class InfluxqlReader {
  private readonly stats_: string;
  private readonly activitySources: ActivitySources;

  /** `retentionPolicy` qualifies every measurement (1.x `db/rp`); without it, the default. */
  constructor(
    private readonly http: InfluxHttp,
    retentionPolicy: string | undefined,
  ) {
    const qualify = (measurement: string) =>
      retentionPolicy === undefined
        ? quoteIdent(measurement)
        : `${quoteIdent(retentionPolicy)}.${quoteIdent(measurement)}`;
    this.stats_ = qualify(STATS_MEASUREMENT);
    this.activitySources = {
      reports: qualify(ACTIVITY_MEASUREMENT),
      rollup: qualify(ACTIVITY_ROLLUP_MEASUREMENT),
    };
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
}
