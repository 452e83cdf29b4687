import { ConnectError } from "@connectrpc/connect";
import type { ApiError } from "../core/errors.js";
import { truncateForMessage } from "../core/truncate.js";

/** Header (Connect) / trailer (gRPC) that carries the ClearML result subcode of an error. */
export const SUBCODE_HEADER = "muster-result-subcode";

/** Longest message sent: gRPC carries it in the grpc-message trailer, which must stay small. */
const MAX_MESSAGE_CHARS = 1000;

export function toConnectError(error: ApiError): ConnectError {
  return new ConnectError(truncateForMessage(error.message, MAX_MESSAGE_CHARS), error.code, {
    [SUBCODE_HEADER]: String(error.subcode),
  });
}
