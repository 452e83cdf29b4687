import { invalidArgument } from "./errors.js";

/** A time range cut into buckets aligned to multiples of the interval since the epoch. */
export interface BucketRange {
  /** Inclusive range of sample times, epoch milliseconds. */
  readonly fromMs: number;
  readonly toMs: number;
  readonly intervalMs: number;
  /** Start of the first and of the last bucket overlapping the range, epoch milliseconds. */
  readonly firstBucketMs: number;
  readonly lastBucketMs: number;
}

export function bucketStart(timeMs: number, intervalMs: number): number {
  return Math.floor(timeMs / intervalMs) * intervalMs;
}

/**
 * The buckets of [fromDate, toDate] (epoch seconds), refusing ranges over `maxBuckets` buckets so
 * one request cannot make the server build an unbounded answer.
 */
export function bucketRange(
  fromDate: number,
  toDate: number,
  intervalSeconds: number,
  maxBuckets: number,
): BucketRange {
  const fromMs = fromDate * 1000;
  const toMs = toDate * 1000;
  const intervalMs = intervalSeconds * 1000;
  const firstBucketMs = bucketStart(fromMs, intervalMs);
  const lastBucketMs = bucketStart(toMs, intervalMs);
  const count = (lastBucketMs - firstBucketMs) / intervalMs + 1;
  if (count > maxBuckets) {
    throw invalidArgument(
      `interval: the range from_date..to_date at an interval of ${intervalSeconds} s makes ${count} buckets, over the limit of ${maxBuckets}; use a larger interval or a shorter range`,
    );
  }
  return { fromMs, toMs, intervalMs, firstBucketMs, lastBucketMs };
}
