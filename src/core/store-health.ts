/**
 * What a store tells the operator side about itself: whether it can serve now (health checks
 * and /readyz), and, when muster hands it a StoreMetrics, the events only the backend sees
 * (revision-conflict retries, reconnects, write batches). Kept here so the stores need nothing
 * of the metrics library or the server.
 */

/** Whether a store can serve calls now; when not, `reason` says why in a few words. */
export type Readiness =
  | { readonly ready: true }
  | { readonly ready: false; readonly reason: string };

export const READY: Readiness = { ready: true };

/** Backend events worth counting; muster passes one in (createMuster), tests may pass none. */
export interface StoreMetrics {
  /** A revision-checked write found the entry changed and tried again (NATS presence). */
  casRetry(): void;
  /** The connection to the backend came back after a loss (NATS presence). */
  reconnected(): void;
  /** One write of `lines` lines to the backend took `seconds`, failed or not (InfluxDB stats). */
  writeBatch(lines: number, seconds: number, failed: boolean): void;
  /**
   * The memory stats store dropped `count` samples it held or was given: past the retention
   * window, or to stay under its sample or series bound.
   */
  samplesDropped(reason: SamplesDroppedReason, count: number): void;
}

export type SamplesDroppedReason = "retention" | "samples" | "series";
