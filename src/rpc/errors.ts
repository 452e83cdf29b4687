import { Code, ConnectError } from "@connectrpc/connect";
import type { Logger } from "pino";
import { ApiError, Subcode } from "../core/errors.js";

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
  log.error({ err: error }, "internal error");
  return new ApiError(Code.Internal, Subcode.internal, "internal server error");
}

export function toConnectError(error: ApiError): ConnectError {
  return new ConnectError(error.message, error.code, { [SUBCODE_HEADER]: String(error.subcode) });
}
