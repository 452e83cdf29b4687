// A lean handler for the commonest RPC daemons make: a unary gRPC call over HTTP/2, uncompressed.
// connect-node's general pipeline (async iterables, Node↔fetch conversions, a DOMException with a
// stack per call from an abort without a reason) cost several times muster's own work per call;
// this reads the one framed message, runs the same interceptors (metrics, request log,
// authentication) and implementation, and writes headers, one frame and trailers itself.
// Everything else (streams, compression, gRPC-Web, Connect, reflection) stays with connect-node.
import * as http2 from "node:http2";
import { create, type DescMessage, fromBinary, type Message, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter } from "@bufbuild/protobuf/wire";
import {
  Code,
  ConnectError,
  type ContextValues,
  type HandlerContext,
  type Interceptor,
  type MethodImplSpec,
  type ServiceImplSpec,
  type UnaryRequest,
  type UnaryResponse,
} from "@connectrpc/connect";
import { parseTimeout, setTrailerStatus } from "@connectrpc/connect/protocol-grpc";
import type { Logger } from "pino";
import { isClientGone } from "../core/client-gone.js";

type UnarySpec = Extract<MethodImplSpec, { kind: "unary" }>;
type AnyFn = Parameters<Interceptor>[0];

export interface GrpcUnaryFastOptions {
  readonly specs: readonly ServiceImplSpec[];
  /** The same interceptors connect-node runs, outermost first. */
  readonly interceptors: readonly Interceptor[];
  readonly contextValues: (req: http2.Http2ServerRequest) => ContextValues;
  readonly readMaxBytes: number;
  readonly writeMaxBytes: number;
  readonly shutdownSignal: AbortSignal;
  readonly log: Logger;
}

/**
 * Answers the request and returns true when it is a call this path serves; else false. Takes the
 * request and response of either Node server (it serves HTTP/2 ones only).
 */
export type FastPath = (req: object, res: object) => boolean;
type Request = http2.Http2ServerRequest;
type Response = http2.Http2ServerResponse;

const GRPC_TYPES = new Set(["application/grpc", "application/grpc+proto"]);

export function grpcUnaryFastPath(options: GrpcUnaryFastOptions): FastPath {
  const routes = new Map<string, UnarySpec>();
  for (const spec of options.specs) {
    for (const method of Object.values(spec.methods)) {
      if (method.kind === "unary")
        routes.set(`/${spec.service.typeName}/${method.method.name}`, method);
    }
  }
  return (req, res) => {
    if (!(req instanceof http2.Http2ServerRequest && res instanceof http2.Http2ServerResponse)) {
      return false;
    }
    if (req.method !== "POST") return false;
    const { headers } = req;
    const type = headers["content-type"];
    if (type === undefined || !GRPC_TYPES.has(type)) return false;
    const encoding = headers["grpc-encoding"];
    if (encoding !== undefined && encoding !== "identity") return false;
    const spec = routes.get(req.url ?? "");
    if (spec === undefined) return false;
    // connect-node answers a malformed timeout its own way.
    const timeout = parseTimeout(
      firstValue(headers["grpc-timeout"]) ?? null,
      Number.MAX_SAFE_INTEGER,
    );
    if (timeout.error !== undefined) return false;
    if (options.log.isLevelEnabled("trace")) {
      options.log.trace({ method: spec.method.name }, "unary gRPC call on the fast path");
    }
    serve(options, spec, req, res, timeout.timeoutMs).catch((error: unknown) => {
      if (isClientGone(error)) options.log.debug({ err: error }, "client went away");
      else options.log.error({ err: error, method: spec.method.name }, "RPC handler failed");
      res.destroy();
    });
    return true;
  };
}

async function serve(
  options: GrpcUnaryFastOptions,
  spec: UnarySpec,
  req: Request,
  res: Response,
  timeoutMs: number | undefined,
): Promise<void> {
  const { method } = spec;
  const service = method.parent;
  // The context built directly rather than by createHandlerContext: no linked abort controllers,
  // listeners and timer per call. Its signal is the deadline's, else the shutdown's (close() lets
  // unary calls in flight finish; muster's unary implementations do not read it).
  const deadline = timeoutMs === undefined ? undefined : new AbortController();
  const expires = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
  const ctx: HandlerContext = {
    service,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `http://${authorityOf(req)}${req.url}`,
    signal: deadline?.signal ?? options.shutdownSignal,
    timeoutMs: () => (expires === undefined ? undefined : expires - Date.now()),
    requestHeader: webHeaders(req.headers),
    responseHeader: new Headers({ "content-type": "application/grpc+proto" }),
    responseTrailer: new Headers({ "grpc-status": "0" }),
    values: options.contextValues(req),
  };
  let frame: Uint8Array[] | undefined;
  try {
    const body = await readFrame(req, options.readMaxBytes);
    const input = parse(method.input, body);
    const call = invoke(spec, ctx, input, options.interceptors);
    const output = await (deadline === undefined || timeoutMs === undefined
      ? call
      : withDeadline(call, timeoutMs, deadline));
    frame = envelope(method.output, output, options.writeMaxBytes);
  } catch (error) {
    setTrailerStatus(
      ctx.responseTrailer,
      error instanceof ConnectError
        ? error
        : new ConnectError("internal error", Code.Internal, undefined, undefined, error),
    );
  }
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(200, plainHeaders(ctx.responseHeader));
  res.addTrailers(plainHeaders(ctx.responseTrailer));
  if (frame !== undefined) for (const part of frame) res.write(part);
  res.end();
}

/** connect's unary invocation: the interceptors around the implementation, on one context. */
async function invoke(
  spec: UnarySpec,
  ctx: HandlerContext,
  input: object,
  interceptors: readonly Interceptor[],
) {
  const { method } = spec;
  const service = method.parent;
  const implementation: AnyFn = async (req) => {
    if (req.stream) throw new ConnectError("interceptor turned a unary call into a stream");
    const merged: HandlerContext = {
      ...ctx,
      requestHeader: req.header,
      values: req.contextValues,
      signal: req.signal,
    };
    const message = create(method.output, await spec.impl(req.message, merged));
    return {
      stream: false,
      service,
      method,
      header: ctx.responseHeader,
      trailer: ctx.responseTrailer,
      message,
    } satisfies UnaryResponse;
  };
  let next = implementation;
  for (let i = interceptors.length - 1; i >= 0; i--) {
    const interceptor = interceptors[i];
    if (interceptor !== undefined) next = interceptor(next);
  }
  const request: UnaryRequest = {
    stream: false,
    service,
    method,
    requestMethod: "POST",
    url: ctx.url,
    signal: ctx.signal,
    header: ctx.requestHeader,
    contextValues: ctx.values,
    message: input as UnaryRequest["message"],
  };
  const answer = await next(request);
  if (answer.stream) throw new ConnectError("interceptor turned a unary call into a stream");
  copyHeaders(answer.header, ctx.responseHeader);
  copyHeaders(answer.trailer, ctx.responseTrailer);
  return create(method.output, answer.message);
}

/** The call's answer, or DEADLINE_EXCEEDED once grpc-timeout has passed (aborting `deadline`). */
function withDeadline<T>(
  call: Promise<T>,
  timeoutMs: number,
  deadline: AbortController,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new ConnectError("the operation timed out", Code.DeadlineExceeded);
      deadline.abort(error);
      reject(error);
    }, timeoutMs);
    call.then(resolve, reject).finally(() => clearTimeout(timer));
  });
}

/**
 * The request body: exactly one uncompressed length-prefixed message of at most `maxBytes`.
 * The client's mistakes are INVALID_ARGUMENT, as on the connect-node path (node-adapter.ts).
 */
function readFrame(req: Request, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let failed = false;
    const fail = (error: ConnectError) => {
      failed = true;
      // The rest of the body is not read.
      req.off("data", onData);
      req.resume();
      reject(error);
    };
    let length = -1;
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      received += chunk.length;
      if (length >= 0) {
        if (received > 5 + length) fail(extraMessage());
        return;
      }
      if (received < 5) return;
      const head = chunks.length === 1 ? chunk : Buffer.concat(chunks);
      if (((head[0] ?? 0) & 1) !== 0) {
        fail(
          new ConnectError(
            "received compressed envelope, but do not know how to decompress",
            Code.Internal,
          ),
        );
        return;
      }
      length = head.readUInt32BE(1);
      if (length > maxBytes) {
        fail(
          new ConnectError(
            `message size ${length} is larger than configured readMaxBytes ${maxBytes}`,
            Code.ResourceExhausted,
          ),
        );
        return;
      }
      if (received > 5 + length) fail(extraMessage());
    };
    req.on("data", onData);
    req.once("error", (error) => {
      if (!failed) reject(error);
    });
    // A stream reset before its body ended (settling twice is a no-op once it has ended).
    req.once("close", () => {
      if (!failed) reject(new ConnectError("client went away", Code.Canceled));
    });
    req.once("end", () => {
      if (failed) return;
      const body = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
      if (body.length === 0) {
        reject(new ConnectError("protocol error: missing input message", Code.InvalidArgument));
        return;
      }
      const length = body.length >= 5 ? body.readUInt32BE(1) : -1;
      if (body.length < 5 || body.length < 5 + length) {
        reject(
          new ConnectError(
            `protocol error: incomplete envelope of ${body.length} bytes`,
            Code.InvalidArgument,
          ),
        );
        return;
      }
      resolve(body.subarray(5));
    });
  });
}

function extraMessage(): ConnectError {
  return new ConnectError("protocol error: received extra input message", Code.InvalidArgument);
}

function parse(schema: DescMessage, bytes: Uint8Array) {
  try {
    return fromBinary(schema, bytes);
  } catch (error) {
    throw new ConnectError(
      `parse binary: ${error instanceof Error ? error.message : String(error)}`,
      Code.InvalidArgument,
    );
  }
}

/**
 * The answer's length-prefixed frame, in parts written one after another. Unknown fields are
 * written as they are rather than copied into one buffer with the rest: GetAll carries its
 * workers' cached encodings in such fields (workers/get-all-wire.ts), 13 MB at 100,000 workers.
 */
function envelope(schema: DescMessage, message: Message, maxBytes: number): Uint8Array[] {
  const unknown = message.$unknown ?? [];
  const known = toBinary(schema, unknown.length === 0 ? message : { ...message, $unknown: [] });
  const rest: Uint8Array[] = [];
  let length = known.length;
  // GetAll's chunks all share one tag: encoded once.
  let tag: { no: number; wireType: number; bytes: Uint8Array } | undefined;
  for (const field of unknown) {
    if (tag?.no !== field.no || tag.wireType !== field.wireType) {
      const bytes = new BinaryWriter().tag(field.no, field.wireType).finish();
      tag = { no: field.no, wireType: field.wireType, bytes };
    }
    rest.push(tag.bytes, field.data);
    length += tag.bytes.length + field.data.length;
  }
  if (length > maxBytes) {
    throw new ConnectError(
      `message size ${length} is larger than configured writeMaxBytes ${maxBytes}`,
      Code.ResourceExhausted,
    );
  }
  // The prefix and the known fields in one buffer: most answers are that alone, one DATA frame.
  const head = Buffer.allocUnsafe(5 + known.length);
  head[0] = 0;
  head.writeUInt32BE(length, 1);
  head.set(known, 5);
  return [head, ...rest];
}

function webHeaders(headers: Request["headers"]): Headers {
  const out = new Headers();
  for (const [name, value] of Object.entries(headers)) {
    if (name.startsWith(":") || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) out.append(name, v);
    else out.append(name, value);
  }
  return out;
}

function plainHeaders(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name] = value;
  });
  return out;
}

function copyHeaders(from: Headers, to: Headers): void {
  if (from === to) return;
  from.forEach((value, name) => {
    to.set(name, value);
  });
}

function authorityOf(req: Request): string {
  return req.authority || firstValue(req.headers.host) || "localhost";
}

function firstValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
