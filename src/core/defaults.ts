/**
 * Defaults that both the configuration (flags, their help and the README) and the code applying
 * them need: kept here, below both, so config.ts reads no implementation module and the two
 * cannot drift apart.
 */

/** The most buckets one get_stats or get_activity_report answer may have. */
export const DEFAULT_MAX_BUCKETS = 10_000;

/** Memory stats store: samples older than this (by report time) are dropped, milliseconds. */
export const DEFAULT_STATS_RETENTION_MS = 7 * 24 * 3600 * 1000;

/**
 * Memory stats store: at most this many samples (about 28 bytes each, measured in
 * bench/memory-stats-cost.ts), and at most this many series (about 190 bytes each beyond their
 * samples; 100,000 is 3,800 four-GPU nodes): about 131 MB together, keeping muster under 256 MB.
 */
export const DEFAULT_STATS_MAX_SAMPLES = 4_000_000;
export const DEFAULT_STATS_MAX_SERIES = 100_000;

/** Open connections one muster accepts (lowered to fit the process's descriptor limit). */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
