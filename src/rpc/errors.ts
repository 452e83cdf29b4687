import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { ApiError, Subcode } from "../workers/errors.js";
import { truncateForMessage } from "../workers/truncate.js";
import { isClientGone } from "./client-gone.js";

/** Header (Connect) / trailer (gRPC) that carries the ClearML result subcode of an error. */
export const SUBCODE_HEADER = "muster-result-subcode";

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

/** Longest message sent: gRPC carries it in the grpc-message trailer, which must stay small. */
const MAX_MESSAGE_CHARS = 1000;

export function toConnectError(error: ApiError): ConnectError {
  return new ConnectError(truncateForMessage(error.message, MAX_MESSAGE_CHARS), error.code, {
    [SUBCODE_HEADER]: String(error.subcode),
  });
}
