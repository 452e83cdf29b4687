import type { IncomingHttpHeaders } from "node:http";
import type { DescMethod } from "@bufbuild/protobuf";
import type { Logger } from "pino";
import type { ClearmlCall } from "../core/clearml-call.js";
import { Subcode, toApiError } from "../core/errors.js";
import type { CallContext } from "../core/identity.js";
import { truncateForMessage } from "../core/truncate.js";
import type { NodeRequest, NodeResponse } from "../http-types.js";
import { type EncodedAnswer, encodeAnswer } from "./encode.js";
import { endpointsOf, parsePath, SERVED_VERSIONS_TEXT } from "./endpoints.js";
import { type EnvelopeContext, httpStatusOf, type Result } from "./envelope.js";
import type { Operation } from "./operations.js";
import { withQueryFields } from "./query.js";

/** Request bodies larger than this are refused; a status report is a few kilobytes. */
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface CompatOptions {
  /** The unary RPCs served, each at its google.api.http path. */
  readonly operations: readonly Operation[];
  /**
   * Who is calling, authenticated from the request and authorized for the method (the Connect
   * routes get the same from an interceptor); throws the 401 or 403 the call gets.
   */
  readonly contextOf: (req: NodeRequest, method: DescMethod) => Promise<CallContext>;
  readonly log: Logger;
  /** Told of every answered call (metrics, request log); gets no header or body. */
  readonly onCall?: (req: NodeRequest, call: ClearmlCall) => void;
}

/**
 * The ClearML HTTP/JSON layer: "/<service>.<action>" and "/v2.N/<service>.<action>" by GET or POST,
 * a JSON body whatever the Content-Type, and the envelope on every answer.
 */
export function clearmlHandler(options: CompatOptions) {
  const endpoints = endpointsOf(options.operations);
  const { log } = options;

  return async (req: NodeRequest, res: NodeResponse): Promise<void> => {
    const started = performance.now();
    let caller: CallContext | undefined;
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
    const encoded = await encodeAnswer(ctx, result, (error) =>
      log.warn({ err: error, endpoint: ctx.endpoint }, "ClearML answer could not be encoded"),
    );
    send(res, encoded, log);
    options.onCall?.(req, {
      endpoint:
        parsed.kind !== "unsupported-version" && endpoints.has(parsed.path)
          ? ctx.endpoint
          : undefined,
      resultCode: encoded.status,
      subcode: result.subcode,
      trx: ctx.trx,
      context: caller,
      worker,
      durationMs: performance.now() - started,
    });

    async function answer(): Promise<Result> {
      if (parsed.kind === "unsupported-version") {
        return failure(
          400,
          Subcode.none,
          `unsupported API version ${truncateForMessage(parsed.version)}: ${SERVED_VERSIONS_TEXT}`,
        );
      }
      const endpoint = endpoints.get(parsed.path);
      if (endpoint === undefined) {
        return failure(404, Subcode.none, `unknown endpoint ${truncateForMessage(ctx.endpoint)}`);
      }
      if (req.method !== "GET" && req.method !== "POST") {
        return failure(
          405,
          Subcode.none,
          `method ${truncateForMessage(req.method ?? "")} not allowed: use GET or POST`,
        );
      }
      // Never inflated: a small compressed body can unpack to gigabytes, and ClearML clients send
      // plain JSON.
      const encoding = header(req.headers, "content-encoding")?.trim().toLowerCase();
      if (encoding !== undefined && encoding !== "" && encoding !== "identity") {
        return failure(
          415,
          Subcode.none,
          `Content-Encoding ${truncateForMessage(encoding)} is not accepted: send the JSON body uncompressed`,
        );
      }
      // Credentials before the body: a stranger learns nothing from how a request is checked.
      const context = await options.contextOf(req, endpoint.operation.method);
      caller = context;
      const body = await readBody(req);
      if (body === undefined) {
        return failure(413, Subcode.none, `request body over ${MAX_BODY_BYTES} bytes`);
      }
      let json: unknown;
      try {
        json = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
      } catch (error) {
        return failure(
          400,
          Subcode.none,
          `malformed JSON body: ${truncateForMessage((error as Error).message)}`,
        );
      }
      json = withQueryFields(endpoint.operation.method.input, json, parsed.query);
      worker = workerOf(json);
      const data = await endpoint.operation.call(json, {
        context,
        authorization: header(req.headers, "authorization"),
      });
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

/** Writes the answer; if the response cannot take it (the client went away), drops it quietly. */
function send(res: NodeResponse, { status, text }: EncodedAnswer, log: Logger): void {
  try {
    res.statusCode = status;
    res.setHeader("content-type", "application/json");
    res.setHeader("content-length", Buffer.byteLength(text));
    res.end(text);
  } catch (error) {
    log.debug({ err: error }, "ClearML answer could not be written");
    res.destroy();
  }
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}
