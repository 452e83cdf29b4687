/**
 * Flux for get_stats and get_activity_report, over the series influx-schema.ts writes. Every value
 * (bucket, company, worker ids, metric keys, times, durations) goes in through the client's `flux`
 * template tag or its flux* literal makers, which escape them; no value is spliced by hand.
 * Pure functions: what they build is unit-tested, what it answers is tested on influxd.
 */
import {
  flux,
  fluxDateTime,
  fluxDuration,
  fluxExpression,
  type ParameterizedQuery,
} from "@influxdata/influxdb-client";
import type { BucketRange } from "../../core/buckets.js";
import type { StatsQuery } from "../../core/stats-store.js";
import {
  ACTIVITY_MEASUREMENT,
  ACTIVITY_ROLLUP_MEASUREMENT,
  LEGACY_STATS_MEASUREMENT,
  ROLLUP_MS,
  STATS_MEASUREMENT,
  statsFieldsPattern,
} from "./influx-schema.js";
import { encodeTagValue } from "./line-protocol.js";
import { metricsNeeding, type PartialFunction, partialsOfQuery } from "./stats-partials.js";

/** An inclusive range of whole milliseconds; undefined when the range holds none. */
export function wholeMs(range: BucketRange): { lo: number; hi: number } | undefined {
  const lo = Math.ceil(range.fromMs);
  const hi = Math.floor(range.toMs);
  return lo > hi ? undefined : { lo, hi };
}

/** A Flux time literal for epoch milliseconds. */
export function fluxTimeMs(ms: number): ParameterizedQuery {
  if (!Number.isSafeInteger(ms)) throw new Error(`Flux: ${ms} ms is not an integer time`);
  return fluxDateTime(new Date(ms).toISOString());
}

/** A Flux duration literal for a whole number of milliseconds. */
export function fluxDurationMs(ms: number): ParameterizedQuery {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`Flux: bad duration ${ms} ms`);
  return fluxDuration(`${ms}ms`);
}

/** `(r.<column> == v0 or r.<column> == v1 …)` for a non-empty list, each value a string literal. */
export function equalsAny(column: string, values: readonly string[]): ParameterizedQuery {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(column)) throw new Error(`Flux: bad column ${column}`);
  const [first, ...rest] = values;
  if (first === undefined) throw new Error("Flux: equalsAny needs at least one value");
  const ref = fluxExpression(`r.${column}`);
  let expression = flux`${ref} == ${first}`;
  for (const value of rest) expression = flux`${expression} or ${ref} == ${value}`;
  return flux`(${expression})`;
}

/** `range` with the inclusive millisecond range (Flux's stop is exclusive). */
function rangeOf(lo: number, hi: number): ParameterizedQuery {
  return flux`range(start: ${fluxTimeMs(lo)}, stop: ${fluxTimeMs(hi + 1)})`;
}

/**
 * get_stats: one pipeline per partial aggregate needed (stats-partials.ts: sum and count for a
 * mean, min, max), each `from |> range |> filter |> aggregateWindow` so InfluxDB pushes the
 * windowed aggregate down to storage, yielding a result named after the function. The filter
 * takes both stored layouts (influx-schema.ts): worker_stats fields `<metric>.<variant>` of the
 * metrics asked, and the legacy machine_stats series of those metrics. Every stored series (a
 * worker's metric and device) is aggregated on its own; Node merges the devices when not split
 * by variant, and the two layouts. Rows keep _time (the window start, clipped to the range start
 * in the first window), _value, worker, and the series' name: _field for worker_stats, the
 * metric and variant tags for machine_stats (tags stored encoded: see line-protocol.ts).
 * Undefined when nothing can match.
 */
export function statsFlux(bucket: string, query: StatsQuery): ParameterizedQuery | undefined {
  const workers = selectedWorkers(query.workers);
  const range = wholeMs(query.range);
  if (workers?.length === 0 || query.metrics.length === 0 || range === undefined) return undefined;
  const functions = partialsOfQuery(query.metrics);
  if (functions.length === 0) return undefined;

  const workerFilter =
    workers === undefined ? [] : [equalsAny("worker", workers.map(encodeTagValue))];
  const filterOf = (fn: PartialFunction) => {
    // Each function reads only the metrics it was asked for: rows are the answer's main cost.
    const metrics = metricsNeeding(query.metrics, fn);
    const wide = joinAnd([
      flux`r._measurement == ${STATS_MEASUREMENT}`,
      flux`r._field =~ ${fluxExpression(`/${statsFieldsPattern(metrics)}/`)}`,
    ]);
    const legacy = joinAnd([
      flux`r._measurement == ${LEGACY_STATS_MEASUREMENT}`,
      flux`r._field == "value"`,
      equalsAny("metric", metrics.map(encodeTagValue)),
    ]);
    return joinAnd([
      flux`r.company == ${encodeTagValue(query.company)}`,
      ...workerFilter,
      flux`(${wide} or ${legacy})`,
    ]);
  };
  const every = fluxDurationMs(query.range.intervalMs);
  const pipelines = functions.map(
    (fn) =>
      flux`from(bucket: ${bucket})
  |> ${rangeOf(range.lo, range.hi)}
  |> filter(fn: (r) => ${filterOf(fn)})
  |> aggregateWindow(every: ${every}, fn: ${fluxExpression(fn)}, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "_field", "worker", "metric", "variant"])
  |> yield(name: ${fn})`,
  );
  return joinLines(pipelines);
}

/**
 * get_activity_report: per bucket, the distinct workers with any report (`total`) and of those
 * the ones with a task in any report of the bucket (`active`), counted by InfluxDB. Rows: `_time`
 * (a time in the bucket; the first window's is clipped to the range start) and either `total` and
 * `active` columns, or a `kind` ("total" | "active") and its count in `_value`; a bucket's counts
 * may come in more than one row (FluxReader adds them up). Undefined when the range holds no
 * millisecond.
 *
 * At an interval that is not whole hours, or a range within one hour, each worker's reports are
 * windowed with max (pushed down to storage) and the rows of each window counted. At whole hours:
 * - the interior buckets (every hour of them inside the range) come from the hourly rollup alone:
 *   one point per worker and hour, so at 1 h its points are counted per field and window, and at
 *   n hours each series is windowed with max (pushed down) and the windows' rows counted per
 *   `_time` and field; no table per worker either way;
 * - the at most two edge buckets, which hold a partial hour at either end of the range, merge per
 *   worker the rollup's hours inside them with the reports of the partial hour (each source's
 *   per-series max, pushed down), and count the distinct workers: at most 2 × workers rows.
 */
export function activityFlux(
  bucket: string,
  company: string,
  range: BucketRange,
): ParameterizedQuery | undefined {
  const bounds = wholeMs(range);
  if (bounds === undefined) return undefined;
  const { lo, hi } = bounds;
  const { intervalMs, firstBucketMs, lastBucketMs } = range;
  const every = fluxDurationMs(intervalMs);
  const company_ = encodeTagValue(company);
  const reportsFilter = flux`r._measurement == ${ACTIVITY_MEASUREMENT} and r._field == "active" and r.company == ${company_}`;
  const rollupFilter = flux`r._measurement == ${ACTIVITY_ROLLUP_MEASUREMENT} and (r._field == "seen" or r._field == "active") and r.company == ${company_}`;
  const read = (from: number, to: number, filter: ParameterizedQuery) =>
    flux`from(bucket: ${bucket})
  |> ${rangeOf(from, to)}
  |> filter(fn: (r) => ${filter})`;

  const wholeFrom = Math.ceil(lo / ROLLUP_MS) * ROLLUP_MS;
  const wholeTo = Math.floor((hi + 1) / ROLLUP_MS) * ROLLUP_MS; // exclusive
  if (intervalMs % ROLLUP_MS !== 0 || wholeFrom >= wholeTo) {
    return flux`${read(lo, hi, reportsFilter)}
  |> aggregateWindow(every: ${every}, fn: max, createEmpty: false, timeSrc: "_start")
  |> keep(columns: ["_time", "_value", "worker"])
  |> group(columns: ["_time"])
  |> reduce(identity: {total: 0, active: 0}, fn: (r, accumulator) => ({total: accumulator.total + 1, active: accumulator.active + r._value}))
  |> yield(name: "activity")`;
  }

  // Buckets are whole hours, epoch-aligned: a partial hour before wholeFrom lies in the first
  // bucket, one from wholeTo in the last.
  const startEdge = lo < wholeFrom;
  const endEdge = wholeTo <= hi;
  const interiorFrom = startEdge ? firstBucketMs + intervalMs : wholeFrom;
  const interiorTo = endEdge ? lastBucketMs : wholeTo; // exclusive
  const parts: ParameterizedQuery[] = [];
  if (interiorFrom < interiorTo) {
    const counted =
      intervalMs === ROLLUP_MS
        ? flux`group(columns: ["_field"])
  |> aggregateWindow(every: ${every}, fn: count, createEmpty: false, timeSrc: "_start")`
        : flux`aggregateWindow(every: ${every}, fn: max, createEmpty: false, timeSrc: "_start")
  |> group(columns: ["_time", "_field"])
  |> count()`;
    parts.push(flux`${read(interiorFrom, interiorTo - 1, rollupFilter)}
  |> ${counted}
  |> map(fn: (r) => ({_time: r._time, kind: if r._field == "seen" then "total" else "active", _value: r._value}))`);
  }

  const edges = new Set<number>();
  if (startEdge) edges.add(firstBucketMs);
  if (endEdge) edges.add(lastBucketMs);
  const definitions: ParameterizedQuery[] = [];
  for (const start of edges) {
    // Per worker: 1 when it ran a task in the bucket's part of the range, else 0.
    const sources: ParameterizedQuery[] = [];
    const rollupFrom = Math.max(start, wholeFrom);
    const rollupTo = Math.min(start + intervalMs, wholeTo);
    if (rollupFrom < rollupTo) {
      sources.push(flux`${read(rollupFrom, rollupTo - 1, rollupFilter)}
  |> max()
  |> map(fn: (r) => ({worker: r.worker, _value: if r._field == "active" then 1 else 0}))`);
    }
    const partial = (from: number, to: number) =>
      sources.push(flux`${read(from, to, reportsFilter)}
  |> max()
  |> map(fn: (r) => ({worker: r.worker, _value: r._value}))`);
    if (start === firstBucketMs && startEdge) partial(lo, wholeFrom - 1);
    if (start === lastBucketMs && endEdge) partial(wholeTo, hi);
    const name = fluxExpression(`edge${definitions.length}`);
    const merged = unionOf(sources);
    definitions.push(flux`${name} = ${merged}
  |> group()`);
    const time = fluxTimeMs(start);
    const counted = (kind: "total" | "active") =>
      flux`distinct(column: "worker")
  |> count()
  |> map(fn: (r) => ({_time: ${time}, kind: ${kind}, _value: r._value}))`;
    parts.push(flux`${name}
  |> ${counted("total")}`);
    parts.push(flux`${name}
  |> filter(fn: (r) => r._value == 1)
  |> ${counted("active")}`);
  }
  const all = unionOf(parts);
  return joinLines([
    ...definitions,
    flux`${all}
  |> yield(name: "activity")`,
  ]);
}

/**
 * get_metric_keys, from the storage index: the worker_stats field keys (`<metric>.<variant>`)
 * of the company's workers named (all when none), yielded as "fields", and the legacy
 * machine_stats series' `metric` tag values, yielded as "metrics". Undefined when no worker can
 * match.
 */
export function metricKeysFlux(
  bucket: string,
  company: string,
  workers: readonly string[],
  stopMs: number,
): ParameterizedQuery | undefined {
  const selected = selectedWorkers(workers);
  if (selected?.length === 0) return undefined;
  const predicate = (measurement: string) =>
    joinAnd([
      flux`r._measurement == ${measurement}`,
      flux`r.company == ${encodeTagValue(company)}`,
      ...(selected === undefined ? [] : [equalsAny("worker", selected.map(encodeTagValue))]),
    ]);
  const values = (tag: string, measurement: string, name: string) =>
    flux`schema.tagValues(bucket: ${bucket}, tag: ${tag}, predicate: (r) => ${predicate(measurement)}, start: ${fluxTimeMs(0)}, stop: ${fluxTimeMs(stopMs)})
  |> yield(name: ${name})`;
  return flux`import "influxdata/influxdb/schema"
${values("_field", STATS_MEASUREMENT, "fields")}
${values("metric", LEGACY_STATS_MEASUREMENT, "metrics")}`;
}

/**
 * The worker ids to filter on: undefined for "every worker" (none named), else the distinct
 * non-empty ids (an empty id can name no stored series; empty after that means no match).
 */
export function selectedWorkers(workers: readonly string[]): string[] | undefined {
  if (workers.length === 0) return undefined;
  return [...new Set(workers)].filter((w) => w !== "");
}

function joinAnd(parts: readonly ParameterizedQuery[]): ParameterizedQuery {
  return parts.reduce((all, part) => flux`${all} and ${part}`);
}

function joinLines(parts: readonly ParameterizedQuery[]): ParameterizedQuery {
  return parts.reduce((all, part) => flux`${all}\n${part}`);
}

/** One stream as it is, several through union (which wants at least two). */
function unionOf(streams: readonly ParameterizedQuery[]): ParameterizedQuery {
  const [only] = streams;
  if (streams.length === 1 && only !== undefined) return only;
  return flux`union(tables: [${joinComma(streams)}])`;
}

function joinComma(parts: readonly ParameterizedQuery[]): ParameterizedQuery {
  return parts.reduce((all, part) => flux`${all},\n${part}`);
}
