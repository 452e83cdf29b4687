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
import { selectedWorkers } from "./flux.js";
import type { ActivitySources } from "./influx-activity.js";
import { planActivity } from "./influx-activity.js";
import type { InfluxHttp } from "./influx-http.js";
import {
  ACTIVITY_MEASUREMENT,
  ACTIVITY_ROLLUP_MEASUREMENT,
  LEGACY_STATS_MEASUREMENT,
  parseStatsField,
  STATS_MEASUREMENT,
  statsFieldsPattern,
} from "./influx-schema.js";
import { durationLiteral, equalsAny, Params, quoteIdent, timeLiteral } from "./influxql.js";
import { decodeTagValue, encodeTagValue } from "./line-protocol.js";
import {
  isPartialFunction,
  metricsNeeding,
  type PartialFunction,
  partialsOfQuery,
  StatsPartials,
} from "./stats-partials.js";

const DAY_MS = 86_400_000;

export class InfluxqlReader {
  private readonly stats_: string;
  private readonly legacyStats: string;
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
    this.legacyStats = qualify(LEGACY_STATS_MEASUREMENT);
    this.activitySources = {
      reports: qualify(ACTIVITY_MEASUREMENT),
      rollup: qualify(ACTIVITY_ROLLUP_MEASUREMENT),
    };
  }

  /**
   * get_stats in two statements, one per stored layout (influx-schema.ts), each asking InfluxDB
   * for the window aggregates of every stored series: worker_stats through a field regex per
   * function (columns `<function>_<metric>.<variant>`), the legacy machine_stats grouped by its
   * metric and variant tags. The series of one row are merged in Node (stats-partials.ts).
   */
  async *stats(query: StatsQuery): AsyncIterable<StatsRow> {
    const workers = selectedWorkers(query.workers);
    const lo = Math.ceil(query.range.fromMs);
    const hi = Math.floor(query.range.toMs);
    const functions = partialsOfQuery(query.metrics);
    if (workers?.length === 0 || functions.length === 0 || lo > hi) return;

    const params = new Params();
    const where = [
      `"company" = ${params.bind(encodeTagValue(query.company))}`,
      ...(workers === undefined ? [] : [equalsAny("worker", workers.map(encodeTagValue), params)]),
      `time >= ${timeLiteral(lo)}`,
      `time <= ${timeLiteral(hi)}`,
    ].join(" AND ");
    const every = `time(${durationLiteral(query.range.intervalMs)})`;
    // Each function reads only the metrics it was asked for.
    const pattern = (fn: PartialFunction) => statsFieldsPattern(metricsNeeding(query.metrics, fn));
    const wide =
      `SELECT ${functions.map((fn) => `${fn}(/${pattern(fn)}/)`).join(", ")}` +
      ` FROM ${this.stats_} WHERE ${where} GROUP BY ${every}, "worker" fill(none)`;
    const allMetrics = [...new Set(query.metrics.map((m) => m.metric))];
    const legacy =
      `SELECT ${functions.map((fn) => `${fn}("value") AS ${quoteIdent(fn)}`).join(", ")}` +
      ` FROM ${this.legacyStats} WHERE ${where}` +
      ` AND ${equalsAny("metric", allMetrics.map(encodeTagValue), params)}` +
      ` GROUP BY ${every}, "worker", "metric", "variant" fill(none)`;
    const [wideResult, legacyResult] = await this.http.query(`${wide}; ${legacy}`, params);

    const split = query.splitByVariant;
    const partials = new StatsPartials();
    for (const series of wideResult?.series ?? []) {
      const worker = decodeTagValue(series.tags?.worker ?? "");
      series.columns.forEach((column, i) => {
        const underscore = column.indexOf("_");
        const fn = column.slice(0, underscore);
        const stored = parseStatsField(column.slice(underscore + 1));
        if (i === 0 || underscore < 0 || !isPartialFunction(fn) || stored === undefined) return;
        const variant = split ? stored.variant : undefined;
        for (const row of series.values) {
          const value = row[i];
          if (typeof value !== "number") continue;
          partials.add(worker, stored.metric, variant, Number(row[0]), fn, value);
        }
      });
    }
    for (const series of legacyResult?.series ?? []) {
      const worker = decodeTagValue(series.tags?.worker ?? "");
      const metric = decodeTagValue(series.tags?.metric ?? "");
      const variant = split ? decodeTagValue(series.tags?.variant ?? "") : undefined;
      for (const fn of functions) {
        const column = series.columns.indexOf(fn);
        if (column < 0) continue;
        for (const row of series.values) {
          const value = row[column];
          if (typeof value === "number")
            partials.add(worker, metric, variant, Number(row[0]), fn, value);
        }
      }
    }
    yield* partials.rows(query.metrics);
  }

  async *activity(query: ActivityQuery): AsyncIterable<ActivityRow> {
    const plan = planActivity(this.activitySources, query.company, query.range);
    const results = plan.text === undefined ? [] : await this.http.query(plan.text, plan.params);
    yield* plan.read(results);
  }

  /** The worker_stats field keys and the legacy machine_stats `metric` tag values recorded. */
  async metricKeys(company: string, workers: readonly string[]): Promise<MetricCategory[]> {
    const selected = selectedWorkers(workers);
    if (selected?.length === 0) return [];
    const params = new Params();
    let where = `"company" = ${params.bind(encodeTagValue(company))}`;
    if (selected !== undefined) {
      where += ` AND ${equalsAny("worker", selected.map(encodeTagValue), params)}`;
    }
    // SHOW FIELD KEYS takes no WHERE (it would name other companies' fields): the fields of
    // these workers are the ones LAST(*) finds a value of. Its columns name every field of the
    // measurement; the ones the workers never wrote hold null.
    const text =
      // Reports may be dated up to a day ahead of the clock: look past it.
      `SELECT LAST(*) FROM ${this.stats_} WHERE ${where} AND time <= ${timeLiteral(Date.now() + 2 * DAY_MS)}; ` +
      `SHOW TAG VALUES FROM ${this.legacyStats} WITH KEY = "metric" WHERE ${where}`;
    const [fields, legacy] = await this.http.query(text, params);
    const recorded: string[] = [];
    for (const series of fields?.series ?? []) {
      series.columns.forEach((column, i) => {
        const written = series.values.some((row) => row[i] !== null && row[i] !== undefined);
        if (!column.startsWith("last_") || !written) return;
        const metric = parseStatsField(column.slice("last_".length))?.metric;
        if (metric !== undefined) recorded.push(metric);
      });
    }
    for (const series of legacy?.series ?? []) {
      const valueColumn = series.columns.indexOf("value");
      for (const row of series.values) recorded.push(decodeTagValue(String(row[valueColumn])));
    }
    return byCategory(recorded);
  }
}
