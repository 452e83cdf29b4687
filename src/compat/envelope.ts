import { randomUUID } from "node:crypto";
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ENDPOINT_VERSION } from "./endpoints.js";

export interface EnvelopeContext {
  /** The endpoint name, e.g. "workers.get_all", or the path asked for when unknown. */
  readonly endpoint: string;
  readonly requestedVersion: string;
  /** The X-ClearML-Trx (or X-Trains-Trx) header, if the client sent one. */
  readonly trx: string | undefined;
}

export interface Result {
  readonly resultCode: number;
  readonly subcode: number;
  readonly message: string;
  readonly data: JsonObject;
}

/** ClearML's response envelope; the HTTP status must equal meta.result_code. */
export function envelope(ctx: EnvelopeContext, result: Result): JsonObject {
  // 32 hex digits, as the reference's uuid4().hex. randomUUID draws from a cached pool of
  // random bytes; randomBytes(16) per answer was 8 % of muster's CPU under report load.
  const id = randomUUID().replaceAll("-", "");
  return {
    meta: {
      id,
      trx: ctx.trx ?? id,
      endpoint: {
        name: ctx.endpoint,
        requested_version: ctx.requestedVersion,
        actual_version: ENDPOINT_VERSION,
      },
      result_code: result.resultCode,
      result_subcode: result.subcode,
      result_msg: result.message,
      error_stack: "",
      error_data: {},
    },
    data: result.data,
  };
}

/** The HTTP status ClearML clients expect for each RPC error code. */
export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange:
      return 400;
    case Code.Unauthenticated:
      return 401;
    case Code.PermissionDenied:
      return 403;
    case Code.NotFound:
      return 404;
    case Code.AlreadyExists:
    case Code.Aborted:
      return 409;
    case Code.ResourceExhausted:
      return 429;
    case Code.Unimplemented:
      return 501;
    case Code.Unavailable:
      return 503;
    case Code.DeadlineExceeded:
      return 504;
    default:
      return 500;
  }
}
