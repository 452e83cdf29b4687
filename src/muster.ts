/**
 * The one wiring function: stores → service → server. main (through start.ts), the tests and
 * the benchmarks' server all build muster here, so they run the same thing.
 */
import type { Logger } from "pino";
import type { Clock } from "./core/clock.js";
import type { PresenceStore } from "./core/presence-store.js";
import type { StatsStore } from "./core/stats-store.js";
import { type RunningServer, startServer } from "./server.js";
import type { ServerLimits } from "./server-limits.js";
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
  /** Serve the dashboard at / (default on). */
  readonly ui?: boolean;
  /** Connection, size and timeout limits; production defaults when absent. */
  readonly limits?: Partial<ServerLimits>;
}

export interface Muster {
  readonly server: RunningServer;
  /** Stops the server (letting calls in flight finish), then closes the stores. */
  close(): Promise<void>;
}

/** Builds the service over the stores and serves it; closes the stores if the server cannot start. */
export async function createMuster(options: MusterOptions): Promise<Muster> {
  const { presence, stats, clock, log } = options;
  const service = new WorkersServiceImpl({
    presence,
    stats,
    clock,
    ...(options.service === undefined ? {} : { options: options.service }),
  });
  const closeStores = async () => {
    await Promise.all([presence.close(), stats.close()]);
  };
  let server: RunningServer;
  try {
    server = await startServer({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      service,
      log,
      ...(options.corsOrigins === undefined ? {} : { corsOrigins: options.corsOrigins }),
      ...(options.ui === undefined ? {} : { ui: options.ui }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
    });
  } catch (error) {
    await closeStores();
    throw error;
  }
  return {
    server,
    async close() {
      await server.close();
      await closeStores();
    },
  };
}
