/**
 * Everything an operator needs around the service, wired once by createMuster: readiness and
 * health, metrics (and the instrumented stores feeding them), the request log, and the hooks the
 * server calls (operator HTTP paths, the RPC interceptor, the health routes, drain on close).
 */
import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { ClearmlCall } from "../core/clearml-call.js";
import type { PresenceStore } from "../core/presence-store.js";
import type { StatsStore } from "../core/stats-store.js";
import { Health } from "./health.js";
import { HealthDesc, registerHealth } from "./health-service.js";
import { opsHttp, type Request, type Response } from "./http-endpoints.js";
import { createMetrics, type MusterMetrics } from "./metrics.js";
import { type MetricsServer, startMetricsServer } from "./metrics-server.js";
import { clearmlRecord, rpcInterceptor } from "./observe-calls.js";
import { type RequestLogMode, requestLogger } from "./request-log.js";
import { timedPresence, timedStats } from "./timed-stores.js";

export interface OpsOptions {
  /** Which calls get a log line; "errors" by default. */
  readonly logRequests?: RequestLogMode;
  /** Serve /metrics on this address instead of the main port. */
  readonly metricsListen?: { readonly host: string; readonly port: number };
}

/** What the server calls; see server.ts. */
export interface ServerOps {
  /** The answer to an operator path (/healthz, /readyz, /metrics, /openapi.json), if it is one. */
  http(req: Request): ((res: Response) => Promise<void>) | undefined;
  readonly interceptors: Interceptor[];
  /** Registers the health service. */
  routes(router: ConnectRouter): void;
  /** Services to list in reflection besides the API's. */
  readonly services: readonly DescService[];
  clearmlCall(call: ClearmlCall, clientIp: string | undefined): void;
  /** Called first when the server closes: health turns NOT_SERVING and watchers hear it. */
  drain(): Promise<void>;
}

export interface Ops {
  readonly server: ServerOps;
  readonly metrics: MusterMetrics;
  readonly health: Health;
  /** The stores the service should use: timed, feeding the metrics. */
  readonly presence: PresenceStore;
  readonly stats: StatsStore;
  /** Where /metrics is served when it has a port of its own. */
  readonly metricsUrl: string | undefined;
  close(): Promise<void>;
}

export async function startOps(
  stores: { readonly presence: PresenceStore; readonly stats: StatsStore; readonly log: Logger },
  options: OpsOptions = {},
): Promise<Ops> {
  const { presence, stats, log } = stores;
  const health = new Health({ presence, stats });
  const metrics = createMetrics({ liveWorkers: () => presence.liveCount(), health });
  presence.useMetrics?.(metrics.store);
  stats.useMetrics?.(metrics.store);
  const logCall = requestLogger(log, options.logRequests ?? "errors");
  const sink = (record: Parameters<typeof logCall>[0]) => {
    metrics.call(record);
    logCall(record);
  };
  const listen = options.metricsListen;
  let metricsServer: MetricsServer | undefined;
  if (listen !== undefined) {
    metricsServer = await startMetricsServer(listen.host, listen.port, metrics);
  }
  return {
    server: {
      http: opsHttp({ health, metrics, serveMetrics: metricsServer === undefined }),
      interceptors: [rpcInterceptor(metrics, sink)],
      routes: (router) => registerHealth(router, health),
      services: [HealthDesc],
      clearmlCall: (call, clientIp) => sink(clearmlRecord(call, clientIp)),
      async drain() {
        health.drain();
        // Let open Watch streams send NOT_SERVING before the server ends them.
        if (health.watchers > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      },
    },
    metrics,
    health,
    presence: timedPresence(presence, metrics),
    stats: timedStats(stats, metrics),
    metricsUrl: metricsServer?.url,
    async close() {
      await metricsServer?.close();
    },
  };
}
