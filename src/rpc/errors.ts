import { ConnectError } from "@connectrpc/connect";
import type { ApiError } from "../core/errors.js";

/** Header (Connect) / trailer (gRPC) that carries the ClearML result subcode of an error. */
export const SUBCODE_HEADER = "muster-result-subcode";

export function toConnectError(error: ApiError): ConnectError {
  return new ConnectError(error.message, error.code, { [SUBCODE_HEADER]: String(error.subcode) });
}
