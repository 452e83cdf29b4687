/**
 * get_stats answers put together from per-series window aggregates. InfluxDB computes, per
 * stored series (a worker's metric and device) and window, the sum and count (for means), min
 * and max, pushed down to storage; the series of one answer row are merged here: the devices of
 * a metric when not split by variant, and the two stored layouts (influx-schema.ts) where both
 * hold data. A mean is the sum of sums over the sum of counts, so it is exact however the samples
 * were split.
 */
import type { MetricRequest, StatsRow } from "../../core/stats-store.js";
import { Aggregation } from "../../gen/muster/workers/v1/types_pb.js";

/** The aggregates InfluxDB is asked for, per series and window. */
export type PartialFunction = "sum" | "count" | "min" | "max";

/** The partials an aggregation needs: anything but min and max is the mean. */
export function partialsOf(aggregation: Aggregation): readonly PartialFunction[] {
  if (aggregation === Aggregation.MIN) return ["min"];
  if (aggregation === Aggregation.MAX) return ["max"];
  return ["sum", "count"];
}

/** The distinct partials a query's metrics need, sorted. */
export function partialsOfQuery(metrics: readonly MetricRequest[]): PartialFunction[] {
  return [...new Set(metrics.flatMap((m) => m.aggregations.flatMap(partialsOf)))].sort();
}

/** The distinct metrics of a query some aggregation of which needs `fn`, in request order. */
export function metricsNeeding(metrics: readonly MetricRequest[], fn: PartialFunction): string[] {
  return [
    ...new Set(
      metrics
        .filter((m) => m.aggregations.some((a) => partialsOf(a).includes(fn)))
        .map((m) => m.metric),
    ),
  ];
}

export function isPartialFunction(name: string): name is PartialFunction {
  return name === "sum" || name === "count" || name === "min" || name === "max";
}

interface Cell {
  readonly worker: string;
  readonly metric: string;
  readonly variant: string | undefined;
  readonly bucketMs: number;
  sum: number;
  count: number;
  min: number;
  max: number;
}

export class StatsPartials {
  private readonly cells = new Map<string, Cell>();

  /** `variant` is undefined when the query merges a metric's devices. */
  add(
    worker: string,
    metric: string,
    variant: string | undefined,
    bucketMs: number,
    fn: PartialFunction,
    value: number,
  ): void {
    const key = `${bucketMs}\u0000${metric}\u0000${variant ?? ""}\u0000${worker}`;
    let cell = this.cells.get(key);
    if (cell === undefined) {
      cell = { worker, metric, variant, bucketMs, sum: 0, count: 0, min: Infinity, max: -Infinity };
      this.cells.set(key, cell);
    }
    if (fn === "sum") cell.sum += value;
    else if (fn === "count") cell.count += value;
    else if (fn === "min") cell.min = Math.min(cell.min, value);
    else cell.max = Math.max(cell.max, value);
  }

  /** One row per cell and aggregation asked of its metric, for cells holding that aggregate. */
  *rows(metrics: readonly MetricRequest[]): Iterable<StatsRow> {
    const asked = new Map<string, Aggregation[]>();
    for (const m of metrics)
      asked.set(m.metric, [...(asked.get(m.metric) ?? []), ...m.aggregations]);
    for (const cell of this.cells.values()) {
      for (const aggregation of new Set(asked.get(cell.metric))) {
        const value = aggregateOf(cell, aggregation);
        if (value === undefined) continue;
        const { worker, metric, variant, bucketMs } = cell;
        yield { worker, metric, variant, aggregation, bucketMs, value };
      }
    }
  }
}

function aggregateOf(cell: Cell, aggregation: Aggregation): number | undefined {
  if (aggregation === Aggregation.MIN) return cell.min === Infinity ? undefined : cell.min;
  if (aggregation === Aggregation.MAX) return cell.max === -Infinity ? undefined : cell.max;
  return cell.count > 0 ? cell.sum / cell.count : undefined;
}
