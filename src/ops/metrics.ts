/**
 * muster's Prometheus metrics, in a registry of each muster's own (no global state, so tests and
 * several instances in one process do not mix counts): calls by protocol, method and code, their
 * latency, store operations, backend events, registered workers, open streams, readiness, and
 * the process and Node runtime metrics of prom-client's collectDefaultMetrics.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { SamplesDroppedReason, StoreMetrics } from "../core/store-health.js";
import type { Health } from "./health.js";

/** One finished call, as metrics and the request log see it. */
export interface CallRecord {
  /** clearml, connect, grpc or grpc-web. */
  readonly protocol: string;
  /** "workers.get_all" (ClearML) or "muster.workers.v1.WorkersService/GetAll" (RPC). */
  readonly method: string;
  /** The gRPC code name ("OK", "INVALID_ARGUMENT") for RPCs, the HTTP result code for ClearML. */
  readonly code: string;
  readonly ok: boolean;
  /** ClearML result subcode (0 when none). */
  readonly subcode: number;
  readonly durationMs: number;
  readonly company: string | undefined;
  readonly worker: string | undefined;
  readonly clientIp: string | undefined;
  /** The ClearML transaction id answered in meta.trx. */
  readonly trx: string | undefined;
}

/** Seconds; RPCs here take from well under a millisecond to a few seconds (large get_stats). */
const LATENCY_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const BATCH_LINE_BUCKETS = [1, 10, 50, 100, 500, 1000, 2500, 5000, 10000];

export interface MusterMetrics {
  readonly registry: Registry;
  /** Handed to the stores (useMetrics) for the events only they see. */
  readonly store: StoreMetrics;
  call(record: CallRecord): void;
  streamOpened(protocol: string, method: string): void;
  streamClosed(protocol: string, method: string): void;
  /** Times one store operation; `store` is "presence" or "stats". */
  storeOperation(
    store: string,
    backend: string,
    operation: string,
    seconds: number,
    failed: boolean,
  ): void;
}

export function createMetrics(options: {
  /** Live workers now (the registered-workers gauge). */
  readonly liveWorkers: () => number;
  readonly health: Health;
}): MusterMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: "muster_requests_total",
    help: "Calls answered, by protocol family, method and result code",
    labelNames: ["protocol", "method", "code"] as const,
    registers,
  });
  const latency = new Histogram({
    name: "muster_request_duration_seconds",
    help: "Time from a call's arrival to its answer (to the end, for streams)",
    labelNames: ["protocol", "method"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const streams = new Gauge({
    name: "muster_streams_open",
    help: "Server streams open now (WatchWorkers, health Watch)",
    labelNames: ["protocol", "method"] as const,
    registers,
  });
  const storeLatency = new Histogram({
    name: "muster_store_operation_duration_seconds",
    help: "Store operations as the service calls them (queries include reading the whole answer)",
    labelNames: ["store", "backend", "operation"] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const storeErrors = new Counter({
    name: "muster_store_errors_total",
    help: "Store operations that failed",
    labelNames: ["store", "backend", "operation"] as const,
    registers,
  });
  const casRetries = new Counter({
    name: "muster_nats_cas_retries_total",
    help: "Presence writes retried because another writer changed the entry first",
    registers,
  });
  const reconnects = new Counter({
    name: "muster_nats_reconnects_total",
    help: "Times the NATS connection came back after a loss",
    registers,
  });
  const batches = new Counter({
    name: "muster_influx_write_batches_total",
    help: "Group-committed writes to InfluxDB",
    registers,
  });
  const batchErrors = new Counter({
    name: "muster_influx_write_errors_total",
    help: "Writes to InfluxDB that failed",
    registers,
  });
  // Tallied as plain numbers and handed to the counter when scraped: at its series bound the memory
  // stats store reports a drop per series it frees, dozens per status report, and a labelled
  // inc() was 2.3 % of the CPU samples (bench/simulate.ts at 50,000 embedded agents).
  const droppedTally = new Map<SamplesDroppedReason, number>();
  new Counter({
    name: "muster_memory_stats_dropped_samples_total",
    help: "Samples the memory stats store dropped: past --stats-retention, or to stay under --stats-max-samples or --stats-max-series (then history is shorter than the retention)",
    labelNames: ["reason"] as const,
    registers,
    collect() {
      for (const [reason, count] of droppedTally) this.inc({ reason }, count);
      droppedTally.clear();
    },
  });
  const batchLines = new Histogram({
    name: "muster_influx_write_batch_lines",
    help: "Line-protocol lines per write to InfluxDB",
    buckets: BATCH_LINE_BUCKETS,
    registers,
  });
  const batchLatency = new Histogram({
    name: "muster_influx_write_duration_seconds",
    help: "Time of one write to InfluxDB",
    buckets: LATENCY_BUCKETS,
    registers,
  });
  new Gauge({
    name: "muster_workers_registered",
    help: "Live worker registrations, every company",
    registers,
    collect() {
      this.set(options.liveWorkers());
    },
  });
  new Gauge({
    name: "muster_ready",
    help: "1 while every store answers and muster is not draining, else 0",
    registers,
    async collect() {
      this.set((await options.health.report()).ready ? 1 : 0);
    },
  });

  return {
    registry,
    store: {
      casRetry: () => casRetries.inc(),
      reconnected: () => reconnects.inc(),
      writeBatch(lines, seconds, failed) {
        batches.inc();
        if (failed) batchErrors.inc();
        batchLines.observe(lines);
        batchLatency.observe(seconds);
      },
      samplesDropped: (reason, count) => {
        droppedTally.set(reason, (droppedTally.get(reason) ?? 0) + count);
      },
    },
    call(record) {
      const { protocol, method, code } = record;
      requests.inc({ protocol, method, code });
      latency.observe({ protocol, method }, record.durationMs / 1000);
    },
    streamOpened: (protocol, method) => streams.inc({ protocol, method }),
    streamClosed: (protocol, method) => streams.dec({ protocol, method }),
    storeOperation(store, backend, operation, seconds, failed) {
      storeLatency.observe({ store, backend, operation }, seconds);
      if (failed) storeErrors.inc({ store, backend, operation });
    },
  };
}
