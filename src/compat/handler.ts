import type { IncomingHttpHeaders } from "node:http";
import type { JsonObject } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import { Subcode, toApiError } from "../core/errors.js";
import type { CallContext } from "../core/identity.js";
import type { NodeRequest, NodeResponse } from "../http-types.js";
import type { WorkersApi } from "../workers/api.js";
import { endpointsOf, parsePath, SERVED_VERSIONS_TEXT } from "./endpoints.js";
import { type EnvelopeContext, envelope, httpStatusOf, type Result } from "./envelope.js";
import { operationsOf } from "./operations.js";

/** Request bodies larger than this are refused; a status report is a few kilobytes. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface CompatOptions {
  /** The service the endpoints call: its unary RPCs, each at its google.api.http path. */
  readonly service: WorkersApi;
  /** Who is calling, read from the request (the Connect routes get the same from context values). */
  readonly requestContextOf: (req: NodeRequest) => CallContext;
  readonly log: Logger;
  /** Told of every answered call (metrics, request log); gets no header or body. */
  readonly onCall?: (req: NodeRequest, call: ClearmlCall) => void;
}

export interface ClearmlCall {
  /** The endpoint, or undefined when the path names none served here. */
  readonly endpoint: string | undefined;
  readonly resultCode: number;
  readonly subcode: number;
  /** meta.trx of the answer. */
  readonly trx: string | undefined;
  readonly worker: string | undefined;
  readonly durationMs: number;
}

/**
 * The ClearML HTTP/JSON layer: "/<service>.<action>" and "/v2.N/<service>.<action>" by GET or POST,
 * a JSON body whatever the Content-Type, and the envelope on every answer.
 */
export function clearmlHandler(options: CompatOptions) {
  const endpoints = endpointsOf(Object.values(operationsOf(options.service)));
  const { log } = options;

  return async (req: NodeRequest, res: NodeResponse): Promise<void> => {
    const started = performance.now();
    let worker: string | undefined;
    const parsed = parsePath(req.url ?? "/");
    const ctx: EnvelopeContext = {
      endpoint: parsed.path.replace(/^\//, ""),
      requestedVersion: parsed.version,
      trx: header(req.headers, "x-clearml-trx") ?? header(req.headers, "x-trains-trx"),
    };
    let result: Result;
    try {
      result = await answer();
    } catch (error) {
      const apiError = toApiError(error, log);
      result = {
        resultCode: httpStatusOf(apiError.code),
        subcode: apiError.subcode,
        message: apiError.message,
        data: {},
      };
    }
    const answered = envelope(ctx, result);
    send(res, result.resultCode, answered);
    options.onCall?.(req, {
      endpoint:
        parsed.kind !== "unsupported-version" && endpoints.has(parsed.path)
          ? ctx.endpoint
          : undefined,
      resultCode: result.resultCode,
      subcode: result.subcode,
      trx: ctx.trx ?? String((answered.meta as JsonObject).id),
      worker,
      durationMs: performance.now() - started,
    });

    async function answer(): Promise<Result> {
      if (parsed.kind === "unsupported-version") {
        return failure(
          400,
          Subcode.none,
          `unsupported API version ${parsed.version}: ${SERVED_VERSIONS_TEXT}`,
        );
      }
      const endpoint = endpoints.get(parsed.path);
      if (endpoint === undefined) {
        return failure(404, Subcode.none, `unknown endpoint ${ctx.endpoint}`);
      }
      if (req.method !== "GET" && req.method !== "POST") {
        return failure(405, Subcode.none, `method ${req.method} not allowed: use GET or POST`);
      }
      const body = await readBody(req);
      if (body === undefined) {
        return failure(413, Subcode.none, `request body over ${MAX_BODY_BYTES} bytes`);
      }
      let json: unknown;
      try {
        json = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
      } catch (error) {
        return failure(400, Subcode.none, `malformed JSON body: ${(error as Error).message}`);
      }
      worker = workerOf(json);
      const data = await endpoint.operation.call(json, options.requestContextOf(req));
      return { resultCode: 200, subcode: 0, message: "OK", data };
    }
  };
}

function workerOf(json: unknown): string | undefined {
  if (typeof json !== "object" || json === null || !("worker" in json)) return undefined;
  return typeof json.worker === "string" && json.worker !== "" ? json.worker : undefined;
}

function failure(resultCode: number, subcode: number, message: string): Result {
  return { resultCode, subcode, message, data: {} };
}

/** The body, or undefined when it is over the limit. */
async function readBody(req: NodeRequest): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const part of req) {
    const chunk = typeof part === "string" ? Buffer.from(part) : part;
    size += chunk.length;
    if (size > MAX_BODY_BYTES) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function send(res: NodeResponse, status: number, body: JsonObject): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader("content-type", "application/json");
  res.setHeader("content-length", Buffer.byteLength(text));
  res.end(text);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
