import { floatValue, integerValue, point } from "./line-protocol.js";
import type { Report } from "./store.js";

/**
 * The series muster keeps in InfluxDB, in one retention policy of its own (writes and queries
 * name it, so the database's default policy is left alone):
 *
 *   machine_stats,category=<c>,company=<co>,metric=<m>,variant=<v>,worker=<w> value=<float> <ms>
 *   activity,company=<co>,worker=<w> active=<1i|0i> <ms>
 *
 * Tags are bounded: companies × workers × the fixed machine_stats keys × devices. Task ids are
 * unbounded, so they are no tag; a report only says whether a task ran (`active`). One point per
 * series and report time: a retried report writes the same series at the same time, which
 * InfluxDB treats as a replacement, so nothing counts twice.
 */
export const RETENTION_POLICY = "muster";
export const STATS_MEASUREMENT = "machine_stats";
export const ACTIVITY_MEASUREMENT = "activity";

/** The line-protocol points of one report: its activity point and one point per sample. */
export function reportLines(report: Report): string[] {
  const { company, worker, timeMs } = report;
  const lines = [
    point(
      ACTIVITY_MEASUREMENT,
      [
        ["company", company],
        ["worker", worker],
      ],
      [["active", integerValue(report.task === undefined ? 0 : 1)]],
      timeMs,
    ),
  ];
  for (const sample of report.samples) {
    // NaN and ±Infinity have no line-protocol form; one would fail the whole batch.
    if (!Number.isFinite(sample.value)) continue;
    lines.push(
      point(
        STATS_MEASUREMENT,
        [
          ["category", sample.category],
          ["company", company],
          ["metric", sample.metric],
          ["variant", sample.variant],
          ["worker", worker],
        ],
        [["value", floatValue(sample.value)]],
        timeMs,
      ),
    );
  }
  return lines;
}
