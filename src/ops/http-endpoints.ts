/**
 * The operator's HTTP paths on muster's port: /healthz (the process answers), /readyz (it can
 * serve: stores answer, not draining; 503 with what is not), /metrics (Prometheus text, unless
 * --metrics-listen moved it) and /openapi.json (the API document generated from the protos).
 * None needs credentials: they are served before authentication (PUBLIC_PATHS lists them).
 */
import { PUBLIC_PATHS } from "../core/public-endpoints.js";
import type { Health } from "./health.js";
import type { MusterMetrics } from "./metrics.js";
import { openApiDocument } from "./openapi.js";

/** What is read of a request of either Node server. */
export interface Request {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
}

/** What is used of a response of either Node server. */
export interface Response {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body: string): unknown;
}

function send(res: Response, status: number, contentType: string, body: string): void {
  res.statusCode = status;
  res.setHeader("content-type", contentType);
  res.setHeader("cache-control", "no-store");
  res.setHeader("content-length", Buffer.byteLength(body));
  res.end(body);
}

const JSON_TYPE = "application/json";

/** Answers the metrics scrape; used on the main port and on --metrics-listen's. */
export async function sendMetrics(res: Response, metrics: MusterMetrics): Promise<void> {
  send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
}

/**
 * Returns the handler for one request on the main port, or undefined when the path is none of
 * these (then the RPC and ClearML handlers take it).
 */
export function opsHttp(options: {
  readonly health: Health;
  readonly metrics: MusterMetrics;
  readonly serveMetrics: boolean;
}) {
  const { health, metrics } = options;
  const paths: Record<string, (res: Response) => Promise<void>> = {
    "/healthz": async (res) => send(res, 200, JSON_TYPE, JSON.stringify({ alive: true })),
    "/readyz": async (res) => {
      const report = await health.report();
      send(res, report.ready ? 200 : 503, JSON_TYPE, JSON.stringify(report));
    },
    "/openapi.json": async (res) => send(res, 200, JSON_TYPE, await openApiDocument()),
    ...(options.serveMetrics ? { "/metrics": (res: Response) => sendMetrics(res, metrics) } : {}),
  };
  return (req: Request): ((res: Response) => Promise<void>) | undefined => {
    const path = (req.url ?? "").split("?", 1)[0] ?? "";
    const answer = paths[path];
    // Served before authentication, so only what the public list names.
    if (answer === undefined || !PUBLIC_PATHS.includes(path)) return undefined;
    if (req.method !== "GET" && req.method !== "HEAD") {
      return async (res) => {
        res.setHeader("allow", "GET, HEAD");
        send(res, 405, JSON_TYPE, JSON.stringify({ error: `method ${req.method} not allowed` }));
      };
    }
    return answer;
  };
}
