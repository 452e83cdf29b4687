/**
 * The one wiring function: stores → service → server. main (through start.ts), the tests and
 * the benchmarks' server all build muster here, so they run the same thing.
 */
import type { Logger } from "pino";
import type { Clock } from "./core/clock.js";
import type { PresenceStore } from "./core/presence-store.js";
import type { StatsStore } from "./core/stats-store.js";
import { type Ops, type OpsOptions, startOps } from "./ops/ops.js";
import { type RunningServer, startServer } from "./server.js";
import { type ServiceOptions, WorkersServiceImpl } from "./workers/service.js";

export interface MusterOptions {
  /** The stores muster serves from; it closes them when it closes. */
  readonly presence: PresenceStore;
  readonly stats: StatsStore;
  readonly clock: Clock;
  readonly log: Logger;
  /** Defaults to 127.0.0.1. */
  readonly host?: string;
  /** 0 (the default) picks a free port. */
  readonly port?: number;
  readonly service?: Partial<ServiceOptions>;
  /** Origins browsers may call from ("*" for any); none by default. */
  readonly corsOrigins?: readonly string[];
  /** Request log and where /metrics is served (src/ops). */
  readonly ops?: OpsOptions;
}

export interface Muster {
  readonly server: RunningServer;
  /** Health, metrics and where they are served. */
  readonly ops: Ops;
  /** Stops the server (letting calls in flight finish), then closes the stores. */
  close(): Promise<void>;
}

/** Builds the service over the stores and serves it; closes the stores if the server cannot start. */
export async function createMuster(options: MusterOptions): Promise<Muster> {
  const { presence, stats, clock, log } = options;
  const closeStores = async () => {
    await Promise.all([presence.close(), stats.close()]);
  };
  const ops = await startOps({ presence, stats, log }, options.ops).catch(async (error) => {
    await closeStores();
    throw error;
  });
  const service = new WorkersServiceImpl({
    // The service sees the stores through the timing wrappers that feed the metrics.
    presence: ops.presence,
    stats: ops.stats,
    clock,
    ...(options.service === undefined ? {} : { options: options.service }),
  });
  let server: RunningServer;
  try {
    server = await startServer({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      service,
      log,
      ...(options.corsOrigins === undefined ? {} : { corsOrigins: options.corsOrigins }),
      ops: ops.server,
    });
  } catch (error) {
    await ops.close();
    await closeStores();
    throw error;
  }
  return {
    server,
    ops,
    async close() {
      await server.close();
      await ops.close();
      await closeStores();
    },
  };
}
