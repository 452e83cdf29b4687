/**
 * The one wiring function: stores → service → server. main (through start.ts), the tests and
 * the benchmarks' server all build muster here, so they run the same thing.
 */
import type { Logger } from "pino";
import { Authenticator } from "./auth/authenticator.js";
import type { LiveCredentials, ReloadResult } from "./auth/live-credentials.js";
import { LoginService } from "./auth/login-service.js";
import { Tokens } from "./auth/token.js";
import { randomTokenSecret } from "./auth/token-secret.js";
import { NEWEST_VERSION } from "./compat/endpoints.js";
import type { Clock } from "./core/clock.js";
import type { PresenceStore } from "./core/presence-store.js";
import type { StatsStore } from "./core/stats-store.js";
import { type Ops, type OpsOptions, startOps } from "./ops/ops.js";
import { QueuesServiceImpl } from "./queues/service.js";
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
  /** Who may call; undefined runs open (every caller is company "default"). */
  readonly credentials?: LiveCredentials;
  /** The HS256 key of session tokens; a random key per process when undefined. */
  readonly tokenSecret?: Uint8Array;
  /** The queues of a company the credentials give none (and of every company when open). */
  readonly queues?: readonly string[];
  /** Serve the dashboard at / (default on). */
  readonly ui?: boolean;
  /** Connection, size and timeout limits; production defaults when absent. */
  readonly limits?: Partial<ServerLimits>;
  /** Request log and where /metrics is served (src/ops). */
  readonly ops?: OpsOptions;
}

/** What muster's tokens say of the server; the SDK reads these claims (spec section 6). */
const TOKEN_CLAIMS = {
  apiVersion: NEWEST_VERSION,
  // A ClearML server version the clients' version checks accept; muster's own is in server_build.
  serverVersion: "1.17.0",
  serverBuild: "muster",
  env: "muster",
} as const;

export interface Muster {
  readonly server: RunningServer;
  /** Health, metrics and where they are served. */
  readonly ops: Ops;
  /** Re-reads the credentials file (SIGHUP) and logs the outcome; undefined when running open. */
  reloadCredentials(): Promise<ReloadResult | undefined>;
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
  const { credentials } = options;
  const tokens = new Tokens({
    secret: options.tokenSecret ?? randomTokenSecret(),
    clock,
    ...TOKEN_CLAIMS,
  });
  const authenticator = new Authenticator({ tokens, credentials });
  const defaultQueues = options.queues ?? ["default"];
  const queues = new QueuesServiceImpl((company) => {
    const own = credentials?.current.companies.get(company)?.queues ?? [];
    return own.length > 0 ? own : defaultQueues;
  });
  let server: RunningServer;
  try {
    server = await startServer({
      host: options.host ?? "127.0.0.1",
      port: options.port ?? 0,
      services: { workers: service, queues, login: new LoginService(authenticator) },
      authenticator,
      log,
      ...(options.corsOrigins === undefined ? {} : { corsOrigins: options.corsOrigins }),
      ...(options.ui === undefined ? {} : { ui: options.ui }),
      ...(options.limits === undefined ? {} : { limits: options.limits }),
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
    async reloadCredentials() {
      if (credentials === undefined) {
        log.info("credentials not reloaded: muster runs open (no --credentials file)");
        return undefined;
      }
      const result = await credentials.reload();
      if (result.ok) {
        const { companies, keyCount } = credentials.current;
        log.info(
          `credentials reloaded from ${credentials.path} (${companies.size} companies, ${keyCount} keys)`,
        );
      } else {
        log.warn(`credentials not reloaded, keeping the previous ones: ${result.reason}`);
      }
      return result;
    },
    async close() {
      await server.close();
      await ops.close();
      await closeStores();
    },
  };
}
