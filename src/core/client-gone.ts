import { Code, ConnectError } from "@connectrpc/connect";

/** Error codes Node gives a request or stream whose client went away. */
const GONE_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ERR_STREAM_PREMATURE_CLOSE",
  "ERR_STREAM_DESTROYED",
  "ERR_HTTP2_STREAM_ERROR",
  "ERR_HTTP2_STREAM_CANCEL",
  "ERR_HTTP2_INVALID_STREAM",
  "ERR_HTTP2_SESSION_ERROR",
]);

/**
 * Whether the error only says the client hung up (aborted request, reset connection, cancelled
 * stream): normal on any network, and logged at debug level so that clients cannot flood the log.
 */
export function isClientGone(error: unknown): boolean {
  if (error instanceof ConnectError) return error.code === Code.Canceled;
  if (!(error instanceof Error)) return false;
  if (error.name === "AbortError") return true;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && GONE_CODES.has(code)) return true;
  return error.message === "aborted";
}
