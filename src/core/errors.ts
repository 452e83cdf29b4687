import { Code } from "@connectrpc/connect";

/**
 * ClearML result subcodes. The HTTP/JSON layer puts them in `meta.result_subcode`; the RPC layer
 * sends them in the `muster-result-subcode` trailer/header so every client can tell them apart.
 */
export const Subcode = {
  none: 0,
  validation: 12,
  invalidDateRange: 16,
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
