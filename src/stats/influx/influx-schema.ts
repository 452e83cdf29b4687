import type { Report } from "../../core/stats-store.js";
import { escapeKey, floatValue, integerValue, point, tagValue } from "./line-protocol.js";

/**
 * The series muster keeps in InfluxDB, in one retention policy of its own (writes and queries
 * name it, so the database's default policy is left alone):
 *
 *   worker_stats,company=<co>,worker=<w> <metric>.<variant>=<float>,… <ms>
 *   activity,company=<co>,worker=<w> active=<1i|0i> <ms>
 *   activity_1h,company=<co>,worker=<w> seen=1i[,active=1i] <start of the report's hour, ms>
 *
 * worker_stats holds a report's machine_stats as one point: a field per machine_stats key and
 * device (`gpu_usage.0`, `memory_used.total`), so a worker is one series, not one per key and
 * device. InfluxDB's cost grows with its series: with a series per sample, a 4-GPU worker was 28
 * series, and influxd took 4.6 times as long per report at 50,000 workers (BENCHMARKS.md,
 * bench/influx-schema-cost.ts). Field keys come from the MachineStats descriptor and list
 * indexes, so they need no encoding.
 *
 * Before it, muster wrote a point per sample (LEGACY_STATS_MEASUREMENT):
 *
 *   machine_stats,category=<c>,company=<co>,metric=<m>,variant=<v>,worker=<w> value=<float> <ms>
 *
 * Both readers still read that layout beside this one, so history written before an upgrade, or
 * by an instance not yet upgraded, stays in the answers until the retention drops it.
 *
 * activity_1h is an hourly rollup, so an activity report over days at an interval of whole hours
 * reads one point per worker and hour instead of every report. It needs no read-modify-write:
 * InfluxDB merges the fields of points with the same series and time, so `seen` is set by any
 * report of the hour and `active` by any report running a task. Each muster writes it with the
 * first report of a worker's hour and the first one running a task (rollup-memo.ts), not with
 * every report.
 * (The one thing it cannot do is forget: a retry that drops the task of a report that had one
 * leaves `active` set for that hour. Retries resend the same report, so this does not arise.)
 *
 * Tags are bounded: companies × workers. Task ids are unbounded, so they are no tag; a report
 * only says whether a task ran (`active`). One point per series and report time: a retried
 * report writes the same series at the same time, which InfluxDB treats as a replacement, so
 * nothing counts twice.
 */
export const RETENTION_POLICY = "muster";
export const STATS_MEASUREMENT = "worker_stats";
export const LEGACY_STATS_MEASUREMENT = "machine_stats";
export const ACTIVITY_MEASUREMENT = "activity";
export const ACTIVITY_ROLLUP_MEASUREMENT = "activity_1h";
export const ROLLUP_MS = 3_600_000;

/** The worker_stats field of a sample: `<metric>.<variant>`. */
export function statsField(metric: string, variant: string): string {
  return `${metric}.${variant}`;
}

/**
 * A regular expression matching the worker_stats fields of the metrics: `^(?:a|b)\.`, for Flux
 * and InfluxQL alike. Metric keys are checked against the MachineStats descriptor before any
 * query; anything but a plain name is refused here all the same, so no request text can shape
 * the pattern.
 */
export function statsFieldsPattern(metrics: readonly string[]): string {
  if (metrics.length === 0) throw new Error("stats fields: at least one metric is needed");
  for (const metric of metrics) {
    if (!/^[A-Za-z0-9_]+$/.test(metric)) throw new Error(`stats fields: bad metric key ${metric}`);
  }
  return `^(?:${metrics.join("|")})\\.`;
}

/** The metric and variant a worker_stats field names; undefined for any other field. */
export function parseStatsField(field: string): { metric: string; variant: string } | undefined {
  const dot = field.lastIndexOf(".");
  if (dot <= 0 || dot === field.length - 1) return undefined;
  return { metric: field.slice(0, dot), variant: field.slice(dot + 1) };
}

/**
 * The line-protocol points of one report: its activity points and its samples' point. Without
 * `rollup`, the hourly rollup point is left out: the caller knows InfluxDB already has it
 * (rollup-memo.ts).
 */
export function reportLines(report: Report, rollup = true): string[] {
  const { company, worker, timeMs } = report;
  const tags = [
    ["company", company],
    ["worker", worker],
  ] as const;
  const running = report.task !== undefined;
  const lines = [
    point(ACTIVITY_MEASUREMENT, tags, [["active", integerValue(running ? 1 : 0)]], timeMs),
  ];
  if (rollup) {
    const hour = Math.floor(timeMs / ROLLUP_MS) * ROLLUP_MS;
    const seen: [string, string][] = [["seen", integerValue(1)]];
    if (running) seen.push(["active", integerValue(1)]);
    lines.push(point(ACTIVITY_ROLLUP_MEASUREMENT, tags, seen, hour));
  }
  let fields = "";
  for (const sample of report.samples) {
    // NaN and ±Infinity have no line-protocol form; one would fail the whole batch.
    if (!Number.isFinite(sample.value)) continue;
    if (fields !== "") fields += ",";
    fields += `${fieldKey(sample.metric, sample.variant)}=${floatValue(sample.value)}`;
  }
  // A point needs a field: a report without samples writes activity only.
  if (fields !== "") {
    lines.push(
      `${STATS_MEASUREMENT},company=${tagValue(company)},worker=${tagValue(worker)} ${fields} ${Math.trunc(timeMs)}`,
    );
  }
  return lines;
}

/**
 * Field keys from a small fixed vocabulary (metric keys × list indexes), escaped once each and
 * found by metric, then variant: the samples' strings are shared by every report
 * (core/machine-stats.ts), so no key string is built per sample to look it up. Bounded all the
 * same: emptied if it ever holds more than VOCABULARY_LIMIT entries.
 */
const vocabulary = new Map<string, Map<string, string>>();
let vocabularySize = 0;
const VOCABULARY_LIMIT = 4096;

function fieldKey(metric: string, variant: string): string {
  const known = vocabulary.get(metric)?.get(variant);
  if (known !== undefined) return known;
  if (vocabularySize >= VOCABULARY_LIMIT) {
    vocabulary.clear();
    vocabularySize = 0;
  }
  let byVariant = vocabulary.get(metric);
  if (byVariant === undefined) {
    byVariant = new Map();
    vocabulary.set(metric, byVariant);
  }
  const key = escapeKey(statsField(metric, variant));
  byVariant.set(variant, key);
  vocabularySize++;
  return key;
}
