/**
 * What anyone may call without credentials: probes, metrics and the API document must work for
 * an orchestrator or a scraper that holds no key. The one list the authentication layer consults.
 */
import { Health } from "../gen/grpc/health/v1/health_pb.js";

/** HTTP paths answered before any authentication (GET or HEAD). */
export const PUBLIC_PATHS: readonly string[] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

/** RPC services callable without credentials. */
export const PUBLIC_SERVICES: readonly string[] = [Health.typeName];

/** Whether a request path (query string ignored) needs no credentials. */
export function isPublicPath(url: string | undefined): boolean {
  const path = (url ?? "").split("?", 1)[0] ?? "";
  if (PUBLIC_PATHS.includes(path)) return true;
  // RPC paths are /<package.Service>/<Method>.
  const service = path.split("/")[1] ?? "";
  return PUBLIC_SERVICES.includes(service);
}
