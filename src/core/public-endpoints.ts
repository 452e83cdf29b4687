/**
 * What anyone may call without credentials: probes, metrics and the API document must work for
 * an orchestrator or a scraper that holds no key, and reflection describes the API, never its
 * data. The one list the authentication (src/rpc/auth-interceptor.ts) and src/ops consult.
 */
import { Health } from "../gen/grpc/health/v1/health_pb.js";
import { ServerReflection as ReflectionV1 } from "../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ReflectionV1Alpha } from "../gen/grpc/reflection/v1alpha/reflection_pb.js";

/** HTTP paths answered before any authentication (GET or HEAD; src/ops/http-endpoints.ts). */
export const PUBLIC_PATHS: readonly string[] = ["/healthz", "/readyz", "/metrics", "/openapi.json"];

/** RPC services callable without credentials. */
export const PUBLIC_SERVICES: readonly string[] = [
  Health.typeName,
  ReflectionV1.typeName,
  ReflectionV1Alpha.typeName,
];

/** Whether a request path (query string ignored) needs no credentials. */
export function isPublicPath(url: string | undefined): boolean {
  const path = (url ?? "").split("?", 1)[0] ?? "";
  if (PUBLIC_PATHS.includes(path)) return true;
  // RPC paths are /<package.Service>/<Method>.
  const service = path.split("/")[1] ?? "";
  return PUBLIC_SERVICES.includes(service);
}
