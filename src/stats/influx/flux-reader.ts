/**
 * Runs the Flux of flux.ts through the client's QueryApi and reads its annotated-CSV answer row
 * by row. Node does no aggregation over samples: it decodes tag values, puts each row in its
 * epoch-aligned bucket, merges the per-series window aggregates of get_stats (stats-partials.ts)
 * and adds up the activity counts a bucket gets in more than one row.
 */
import { HttpError, type ParameterizedQuery, type QueryApi } from "@influxdata/influxdb-client";
import { bucketStart } from "../../core/buckets.js";
import { unavailable } from "../../core/errors.js";
import {
  type ActivityQuery,
  type ActivityRow,
  byCategory,
  type MetricCategory,
  type StatsQuery,
  type StatsRow,
} from "../../core/stats-store.js";
import { activityFlux, metricKeysFlux, statsFlux } from "./flux.js";
import { parseStatsField } from "./influx-schema.js";
import { decodeTagValue } from "./line-protocol.js";
import { isPartialFunction, StatsPartials } from "./stats-partials.js";

const DAY_MS = 86_400_000;

export class FluxReader {
  constructor(
    private readonly queryApi: QueryApi,
    private readonly bucket: string,
  ) {}

  /**
   * get_stats rows, any order; only buckets with samples. InfluxDB aggregates each stored series
   * per window; the series of one row are merged in Node (stats-partials.ts), so the answer is
   * held until the last row has arrived.
   */
  async *stats(query: StatsQuery): AsyncIterable<StatsRow> {
    const flux = statsFlux(this.bucket, query);
    if (flux === undefined) return;
    const { intervalMs } = query.range;
    const split = query.splitByVariant;
    // Few distinct names and times recur over many rows: each is decoded or parsed once.
    const decode = memo(decodeTagValue);
    const field = memo(parseStatsField);
    // The first window's time is the range start, not its bucket's start.
    const bucketOf = memo((time: string) => bucketStart(Date.parse(time), intervalMs));
    const partials = new StatsPartials();
    for await (const row of this.rows(flux, [
      "result",
      "_time",
      "_value",
      "worker",
      "_field",
      "metric",
      "variant",
    ])) {
      const [result = "", time, value, worker, fieldKey, metricTag, variantTag] = row;
      if (!isPartialFunction(result) || time === undefined || worker === undefined) continue;
      // A legacy machine_stats series names itself in tags, a worker_stats one in its field.
      const series =
        metricTag !== undefined
          ? { metric: decode(metricTag), variant: decode(variantTag ?? "") }
          : field(fieldKey ?? "");
      if (series === undefined) continue;
      const variant = split ? series.variant : undefined;
      partials.add(decode(worker), series.metric, variant, bucketOf(time), result, Number(value));
    }
    yield* partials.rows(query.metrics);
  }

  /**
   * get_activity_report rows for buckets with any report, any order. A bucket's counts may come
   * in several rows (the edge buckets' `total` and `active` separately): they are added up per
   * bucket here, at most one entry per bucket of the answer.
   */
  async *activity(query: ActivityQuery): AsyncIterable<ActivityRow> {
    const flux = activityFlux(this.bucket, query.company, query.range);
    if (flux === undefined) return;
    const { intervalMs } = query.range;
    const buckets = new Map<number, { total: number; active: number }>();
    for await (const [time, kind, value, total, active] of this.rows(flux, [
      "_time",
      "kind",
      "_value",
      "total",
      "active",
    ])) {
      if (time === undefined) continue;
      const bucketMs = bucketStart(Date.parse(time), intervalMs);
      const counts = buckets.get(bucketMs) ?? { total: 0, active: 0 };
      if (kind === "total") counts.total += Number(value ?? 0);
      else if (kind === "active") counts.active += Number(value ?? 0);
      else {
        counts.total += Number(total ?? 0);
        counts.active += Number(active ?? 0);
      }
      buckets.set(bucketMs, counts);
    }
    for (const [bucketMs, { total, active }] of buckets) {
      if (total > 0) yield { bucketMs, total, active };
    }
  }

  /** Categories and keys recorded for the workers (all of the company's when none named). */
  async metricKeys(company: string, workers: readonly string[]): Promise<MetricCategory[]> {
    // Reports may be dated up to a day ahead of the clock: look past it.
    const flux = metricKeysFlux(this.bucket, company, workers, Date.now() + 2 * DAY_MS);
    if (flux === undefined) return [];
    const keys: string[] = [];
    for await (const [result, value] of this.rows(flux, ["result", "_value"])) {
      if (value === undefined) continue;
      if (result === "metrics") keys.push(decodeTagValue(value));
      else {
        const metric = parseStatsField(value)?.metric;
        if (metric !== undefined) keys.push(metric);
      }
    }
    return byCategory(keys);
  }

  /**
   * The values of the named columns of every row (undefined where a table lacks the column).
   * Column positions are looked up once per table. Failures to reach InfluxDB, and its 5xx
   * answers, are UNAVAILABLE naming the stats store; a refused query is a plain Error.
   */
  private async *rows(
    flux: ParameterizedQuery,
    columns: readonly string[],
  ): AsyncIterable<(string | undefined)[]> {
    let meta: unknown;
    let indexes: number[] = [];
    let defaults: (string | undefined)[] = [];
    try {
      for await (const { values, tableMeta } of this.queryApi.iterateRows(flux)) {
        if (tableMeta !== meta) {
          meta = tableMeta;
          indexes = columns.map((c) => tableMeta.columns.findIndex((column) => column.label === c));
          defaults = indexes.map((i) => tableMeta.columns[i]?.defaultValue);
        }
        // An empty cell takes its column's #default annotation (the `result` name is sent so).
        yield indexes.map((i, j) => {
          const value = values[i];
          return value === "" || value === undefined ? defaults[j] : value;
        });
      }
    } catch (error) {
      throw queryError(error);
    }
  }
}

/** `fn` with its answers kept per argument (for the small, repeating sets of a query's answer). */
function memo<T>(fn: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) {
      value = fn(key);
      cache.set(key, value);
    }
    return value;
  };
}

/** A query failure as muster reports it. */
export function queryError(error: unknown): Error {
  if (error instanceof HttpError) {
    const detail = `InfluxDB answered the query with ${error.statusCode}: ${error.body ?? error.message}`;
    return error.statusCode >= 500
      ? unavailable(`stats store unavailable: ${detail}`)
      : new Error(`stats store refused the query: ${detail}`);
  }
  const message = error instanceof Error ? error.message : String(error);
  return unavailable(`stats store unreachable: InfluxDB query failed: ${message}`);
}
