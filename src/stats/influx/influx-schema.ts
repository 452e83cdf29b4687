import type { Report } from "../../core/stats-store.js";
import { escapeMeasurement, floatValue, integerValue, point, tagValue } from "./line-protocol.js";

/**
 * The series muster keeps in InfluxDB, in one retention policy of its own (writes and queries
 * name it, so the database's default policy is left alone):
 *
 *   machine_stats,category=<c>,company=<co>,metric=<m>,variant=<v>,worker=<w> value=<float> <ms>
 *   activity,company=<co>,worker=<w> active=<1i|0i> <ms>
 *   activity_1h,company=<co>,worker=<w> seen=1i[,active=1i] <start of the report's hour, ms>
 *
 * activity_1h is an hourly rollup written with every report, so an activity report over days at
 * an interval of whole hours reads one point per worker and hour instead of every report. It
 * needs no read-modify-write: InfluxDB merges the fields of points with the same series and
 * time, so `seen` is set by any report of the hour and `active` by any report running a task.
 * (The one thing it cannot do is forget: a retry that drops the task of a report that had one
 * leaves `active` set for that hour. Retries resend the same report, so this does not arise.)
 *
 * Tags are bounded: companies × workers × the fixed machine_stats keys × devices. Task ids are
 * unbounded, so they are no tag; a report only says whether a task ran (`active`). One point per
 * series and report time: a retried report writes the same series at the same time, which
 * InfluxDB treats as a replacement, so nothing counts twice.
 */
export const RETENTION_POLICY = "muster";
export const STATS_MEASUREMENT = "machine_stats";
export const ACTIVITY_MEASUREMENT = "activity";
export const ACTIVITY_ROLLUP_MEASUREMENT = "activity_1h";
export const ROLLUP_MS = 3_600_000;

/** The line-protocol points of one report: its activity points and one point per sample. */
export function reportLines(report: Report): string[] {
  const { company, worker, timeMs } = report;
  const tags = [
    ["company", company],
    ["worker", worker],
  ] as const;
  const running = report.task !== undefined;
  const hour = Math.floor(timeMs / ROLLUP_MS) * ROLLUP_MS;
  const rollup: [string, string][] = [["seen", integerValue(1)]];
  if (running) rollup.push(["active", integerValue(1)]);
  const lines = [
    point(ACTIVITY_MEASUREMENT, tags, [["active", integerValue(running ? 1 : 0)]], timeMs),
    point(ACTIVITY_ROLLUP_MEASUREMENT, tags, rollup, hour),
  ];
  // Every sample line shares the company and worker tags: encoded once per report, not per line
  // (escaping was a tenth of muster's CPU under report load).
  const shared = { company: tagValue(company), worker: tagValue(worker) };
  const head = `${escapeMeasurement(STATS_MEASUREMENT)},category=`;
  for (const sample of report.samples) {
    // NaN and ±Infinity have no line-protocol form; one would fail the whole batch.
    if (!Number.isFinite(sample.value)) continue;
    lines.push(
      `${head}${vocabularyTag(sample.category)},company=${shared.company},metric=${vocabularyTag(sample.metric)},variant=${vocabularyTag(sample.variant)},worker=${shared.worker} value=${floatValue(sample.value)} ${Math.trunc(timeMs)}`,
    );
  }
  return lines;
}

/**
 * Tag values from a small fixed vocabulary (categories, metric keys, list indexes), encoded once
 * each. Bounded all the same: emptied if it ever holds more than VOCABULARY_LIMIT entries.
 */
const vocabulary = new Map<string, string>();
const VOCABULARY_LIMIT = 4096;

function vocabularyTag(value: string): string {
  let tag = vocabulary.get(value);
  if (tag === undefined) {
    if (vocabulary.size >= VOCABULARY_LIMIT) vocabulary.clear();
    tag = tagValue(value);
    vocabulary.set(value, tag);
  }
  return tag;
}
