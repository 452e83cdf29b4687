/**
 * Startup checks for the InfluxDB stats store: the server answers, the token is accepted, the
 * bucket exists (created where muster may), and Flux runs when it is the query language. Each
 * failure is one line saying what to fix, for the operator reading muster's exit message.
 */
import type { QueryApi } from "@influxdata/influxdb-client";
import { v1Authorization } from "./influx-http.js";
import { durationLiteral, quoteIdent } from "./influxql.js";

export interface InfluxTarget {
  /** InfluxDB's HTTP API, e.g. http://127.0.0.1:8086 */
  readonly url: string;
  /** 2.x: an API token; 1.8+: `user:password`, or empty without authentication. */
  readonly token: string;
  /** 2.x only (1.x ignores it). */
  readonly org: string;
  /** 2.x: the bucket's name; 1.8+: `database/retention-policy`. */
  readonly bucket: string;
  /** The bucket's retention (2.x) or the retention policy's duration (1.x) when created, ms. */
  readonly retentionMs: number;
  readonly timeoutMs?: number;
}

export interface InfluxServer {
  /** As the server names it in X-Influxdb-Version, e.g. "v2.7.12" or "1.8.10". */
  readonly version: string;
  /** 1 for 1.x (buckets are database/retention-policy), 2 for 2.x. */
  readonly major: 1 | 2;
}

/**
 * Reaches the server and learns its version, checks the token, and makes sure the bucket exists
 * (creating it with the retention given when missing and the token may). Throws one line.
 */
export async function ensureBucket(target: InfluxTarget): Promise<InfluxServer> {
  const server = await ping(target);
  if (server.major === 2) await ensureBucketV2(target);
  else await ensureBucketV1(target);
  return server;
}

/** Runs a trivial Flux query; throws one line naming the fix when the server cannot run Flux. */
export async function checkFlux(target: InfluxTarget, queryApi: QueryApi): Promise<void> {
  try {
    await queryApi.collectRows('import "array"\narray.from(rows: [{ok: 1}])');
  } catch (error) {
    const status = (error as { statusCode?: unknown }).statusCode;
    if (status === 401) throw tokenRefused(target);
    throw new Error(
      `InfluxDB at ${target.url} does not run Flux (${oneLine(error)}): use InfluxDB 2.x, or 1.8+ with [http] flux-enabled = true, or --influx-query influxql`,
    );
  }
}

async function ping(target: InfluxTarget): Promise<InfluxServer> {
  const response = await send(target, "ping", { method: "GET" });
  await response.arrayBuffer();
  const version = response.headers.get("x-influxdb-version") ?? "";
  if (response.status !== 204 || version === "") {
    throw new Error(
      `${target.url} is not InfluxDB (ping answered ${response.status}): check INFLUX_URL/--influx-url`,
    );
  }
  const major = /^v?(\d+)\./.exec(version)?.[1];
  if (major === "2") return { version, major: 2 };
  if (major === "1") return { version, major: 1 };
  throw new Error(
    `InfluxDB ${version} at ${target.url} is not 1.x or 2.x: use --influx-query influxql with its v1 endpoints`,
  );
}

async function ensureBucketV2(target: InfluxTarget): Promise<void> {
  const query = new URLSearchParams({ org: target.org, name: target.bucket });
  const listed = await send(target, `api/v2/buckets?${query}`, { method: "GET" });
  // 2.7 answers a name it does not know with 404, earlier 2.x with an empty list.
  if (listed.status === 404) await listed.arrayBuffer();
  else {
    const found = await json<{ buckets?: unknown[] }>(target, listed, "list buckets");
    if ((found.buckets?.length ?? 0) > 0) return;
  }
  const orgsAnswer = await send(target, `api/v2/orgs?${new URLSearchParams({ org: target.org })}`, {
    method: "GET",
  });
  let orgID: string | undefined;
  if (orgsAnswer.status === 404) await orgsAnswer.arrayBuffer();
  else {
    const orgs = await json<{ orgs?: { id?: string }[] }>(target, orgsAnswer, "find the org");
    orgID = orgs.orgs?.[0]?.id;
  }
  if (orgID === undefined) {
    throw new Error(
      `InfluxDB at ${target.url} has no org ${JSON.stringify(target.org)} the token can see: check INFLUX_ORG/--influx-org`,
    );
  }
  const response = await send(target, "api/v2/buckets", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      orgID,
      name: target.bucket,
      retentionRules: [{ type: "expire", everySeconds: Math.round(target.retentionMs / 1000) }],
    }),
  });
  // 422: another muster created it meanwhile.
  if (response.status === 201 || response.status === 422) {
    await response.arrayBuffer();
    return;
  }
  // The token was accepted above: a 401/403 here is a missing permission ("write:…/buckets").
  const detail = await response.text().catch(() => "");
  throw new Error(
    `InfluxDB at ${target.url} has no bucket ${JSON.stringify(target.bucket)} in org ${JSON.stringify(target.org)} and the token may not create it (${response.status} ${oneLine(detail)}): create it (influx bucket create --name ${target.bucket} --org ${target.org} --retention ${durationLiteral(target.retentionMs)}) or use a token with write access to buckets`,
  );
}

/** 1.x: the bucket is `database/retention-policy`; both are created when missing (v1 /query). */
async function ensureBucketV1(target: InfluxTarget): Promise<void> {
  const slash = target.bucket.indexOf("/");
  const database = slash < 0 ? target.bucket : target.bucket.slice(0, slash);
  const policy = slash < 0 ? "" : target.bucket.slice(slash + 1);
  if (database === "" || policy === "") {
    throw new Error(
      `INFLUX_BUCKET/--influx-bucket must be database/retention-policy on InfluxDB 1.x, not ${JSON.stringify(target.bucket)}`,
    );
  }
  const duration = durationLiteral(target.retentionMs);
  const statements = [
    `CREATE DATABASE ${quoteIdent(database)}`,
    // Idempotent when the policy exists with the same duration; an existing policy is left alone.
    `CREATE RETENTION POLICY ${quoteIdent(policy)} ON ${quoteIdent(database)} DURATION ${duration} REPLICATION 1`,
  ];
  for (const q of statements) {
    const response = await send(target, "query", {
      method: "POST",
      body: new URLSearchParams({ q }),
    });
    const answer = await json<{ results?: { error?: string }[]; error?: string }>(
      target,
      response,
      "create the database",
    );
    const error = answer.error ?? answer.results?.find((r) => r.error !== undefined)?.error;
    if (error !== undefined && !/already exists/.test(error)) {
      throw new Error(
        `InfluxDB at ${target.url} cannot set up ${target.bucket}: ${error}: create database ${database} and retention policy ${policy} yourself, or use a user that may`,
      );
    }
  }
}

function tokenRefused(target: InfluxTarget): Error {
  return new Error(
    `INFLUX_TOKEN/--influx-token is not accepted by ${target.url}: give a valid token`,
  );
}

async function json<T>(target: InfluxTarget, response: Response, what: string): Promise<T> {
  if (response.status === 401 || response.status === 403) {
    await response.arrayBuffer();
    throw tokenRefused(target);
  }
  const text = await response.text();
  if (response.status !== 200) {
    throw new Error(
      `InfluxDB at ${target.url} refused to ${what} (${response.status} ${oneLine(text)})`,
    );
  }
  return JSON.parse(text) as T;
}

async function send(target: InfluxTarget, path: string, init: RequestInit): Promise<Response> {
  const base = target.url.endsWith("/") ? target.url : `${target.url}/`;
  const headers = new Headers(init.headers);
  if (target.token !== "") {
    // The v1 /query (1.x setup) reads user:password as Basic; /api/v2 takes the Token scheme.
    const v1 = path.startsWith("query");
    headers.set("authorization", v1 ? v1Authorization(target.token) : `Token ${target.token}`);
  }
  try {
    return await fetch(new URL(path, base), {
      ...init,
      headers,
      signal: AbortSignal.timeout(target.timeoutMs ?? 10_000),
    });
  } catch (error) {
    const cause = (error as { cause?: unknown }).cause;
    throw new Error(
      `InfluxDB at ${target.url} cannot be reached (${oneLine(cause ?? error)}): check INFLUX_URL/--influx-url and that InfluxDB runs`,
    );
  }
}

function oneLine(value: unknown): string {
  const text = value instanceof Error ? value.message : String(value);
  return text.replace(/\s+/g, " ").trim().slice(0, 200);
}
