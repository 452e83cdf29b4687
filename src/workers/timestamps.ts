import { invalidArgument } from "../core/errors.js";

/** A report timestamp of at least this is milliseconds (the ClearML agent's unit), else seconds. */
const MILLISECONDS_THRESHOLD = 100_000_000_000;
const YEAR_2000_MS = Date.UTC(2000, 0, 1);
const ONE_DAY_MS = 86_400_000;

/** Reads a status_report timestamp in seconds or milliseconds as epoch milliseconds. */
export function reportTimeMs(timestamp: bigint): number {
  const value = Number(timestamp);
  return value >= MILLISECONDS_THRESHOLD ? value : value * 1000;
}

/**
 * Rejects report times no real clock produces: before 2000, or more than a day ahead of ours.
 * Such samples would land in buckets nobody queries, or poison the future.
 */
export function checkReportTime(timeMs: number, nowMs: number): void {
  if (timeMs < YEAR_2000_MS) {
    throw invalidArgument(`timestamp: ${timeMs} ms is before the year 2000`);
  }
  if (timeMs > nowMs + ONE_DAY_MS) {
    throw invalidArgument(`timestamp: ${timeMs} ms is more than a day ahead of the server clock`);
  }
}
