import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { isClientGone } from "./client-gone.js";

/**
 * ClearML result subcodes. The HTTP/JSON layer puts them in `meta.result_subcode`; the RPC layer
 * sends them in the `muster-result-subcode` trailer/header so every client can tell them apart.
 */
export const Subcode = {
  none: 0,
  validation: 12,
  invalidDateRange: 16,
  // 20, 22 and 30 are ClearML's credential subcodes, for the authentication being added.
  noCredentials: 20,
  badCredentials: 22,
  badToken: 30,
  internal: 100,
  unknownWorker: 1001,
  invalidTimeout: 1002,
  statsNotFound: 1005,
} as const;

/** An error a client caused or should see, with the RPC code and the ClearML subcode it maps to. */
export class ApiError extends Error {
  constructor(
    readonly code: Code,
    readonly subcode: number,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function invalidArgument(message: string, subcode: number = Subcode.validation): ApiError {
  return new ApiError(Code.InvalidArgument, subcode, message);
}

export function unavailable(message: string): ApiError {
  return new ApiError(Code.Unavailable, Subcode.none, message);
}

/**
 * Any error a call threw, as the API reports it. ApiErrors keep their code and message; anything
 * else is a bug or an outage: logged in full, reported as internal without its details.
 */
export function toApiError(error: unknown, log: Logger): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ConnectError && error.code !== Code.Internal) {
    return new ApiError(error.code, Subcode.none, error.rawMessage);
  }
  if (isClientGone(error)) {
    log.debug({ err: error }, "client went away");
    return new ApiError(Code.Canceled, Subcode.none, "the client went away");
  }
  log.error({ err: error }, "internal error");
  return new ApiError(Code.Internal, Subcode.internal, "internal server error");
}
