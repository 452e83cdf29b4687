import { getOption } from "@bufbuild/protobuf";
import { http } from "../gen/google/api/annotations_pb.js";
import type { Operation } from "./operations.js";

/** The newest ClearML API version muster answers as; URLs without a version prefix get it. */
export const NEWEST_VERSION = "2.31";
/** The version of the workers endpoints' current behaviour, reported as meta.endpoint.actual_version. */
export const ENDPOINT_VERSION = "2.4";
/** Every 2.x version prefix is served; other major versions are refused. */
const SERVED_MAJOR = 2;

export interface Endpoint {
  /** "workers.get_all": the path without its leading slash. */
  readonly name: string;
  readonly operation: Operation;
}

/** The endpoints by path, read from each RPC's google.api.http annotation. */
export function endpointsOf(operations: readonly Operation[]): Map<string, Endpoint> {
  const endpoints = new Map<string, Endpoint>();
  for (const operation of operations) {
    const rule = getOption(operation.method, http);
    const path =
      rule.pattern.case === undefined || rule.pattern.case === "custom"
        ? undefined
        : rule.pattern.value;
    if (path === undefined || path === "") {
      throw new Error(`${operation.method.name} has no google.api.http path`);
    }
    if (endpoints.has(path)) throw new Error(`two RPCs have the google.api.http path ${path}`);
    endpoints.set(path, { name: path.replace(/^\//, ""), operation });
  }
  return endpoints;
}

export type ParsedPath = {
  readonly kind: "endpoint" | "unsupported-version";
  readonly path: string;
  readonly version: string;
  /** The query string without its "?" ("" when none). */
  readonly query: string;
};

/** Splits "/v2.23/workers.get_all/?x" into the endpoint path and the requested version. */
export function parsePath(url: string): ParsedPath {
  const mark = url.indexOf("?");
  const query = mark < 0 ? "" : url.slice(mark + 1);
  let path = mark < 0 ? url : url.slice(0, mark);
  if (path.length > 1 && path.endsWith("/")) path = path.slice(0, -1);
  const versioned = /^\/v(\d+)\.(\d+)(\/.*)$/.exec(path);
  if (versioned === null) return { kind: "endpoint", path, version: NEWEST_VERSION, query };
  const [, major, minor, rest] = versioned as unknown as [string, string, string, string];
  const version = `${Number(major)}.${Number(minor)}`;
  const kind = Number(major) === SERVED_MAJOR ? "endpoint" : "unsupported-version";
  return { kind, path: rest, version, query };
}

export const SERVED_VERSIONS_TEXT = `this server serves API versions ${SERVED_MAJOR}.x`;
