/**
 * What one client may take of the server: message sizes, how long a connection may sit idle, how
 * many connections and HTTP/2 streams may be open. Defaults suit production; tests shrink them.
 */
import { DEFAULT_MAX_CONNECTIONS } from "./core/defaults.js";

export interface ServerLimits {
  /** Largest RPC request message, after decompression (RESOURCE_EXHAUSTED beyond it). */
  readonly readMaxBytes: number;
  /** Largest RPC response message (the call fails with RESOURCE_EXHAUSTED beyond it). */
  readonly writeMaxBytes: number;
  /** A new connection that has not sent enough to tell its protocol by then is closed. */
  readonly firstBytesTimeoutMs: number;
  /** HTTP/1.1: a request's headers must have arrived within this time. */
  readonly headersTimeoutMs: number;
  /** HTTP/1.1 and HTTP/2: a request (headers and body) must have arrived within this time. */
  readonly requestTimeoutMs: number;
  /** HTTP/1.1: an idle keep-alive connection is closed after this. */
  readonly keepAliveTimeoutMs: number;
  /** HTTP/2: a session with no open stream for this long is closed (GOAWAY). */
  readonly http2IdleTimeoutMs: number;
  /** HTTP/2: a session with open streams (WatchWorkers) is pinged this often. */
  readonly http2PingIntervalMs: number;
  /** HTTP/2: streams one session may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS). */
  readonly http2MaxConcurrentStreams: number;
  /** HTTP/2: streams a client may reset within `http2ResetWindowMs` before its session is ended. */
  readonly http2MaxResets: number;
  readonly http2ResetWindowMs: number;
  /** Open connections beyond this are closed on accept (lowered to fit the descriptor limit). */
  readonly maxConnections: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  // The ClearML path's body limit: a status report is a few kilobytes.
  readMaxBytes: 4 * 1024 * 1024,
  // get_all of 100,000 ordinary workers is about 30 MB.
  writeMaxBytes: 64 * 1024 * 1024,
  firstBytesTimeoutMs: 10_000,
  headersTimeoutMs: 20_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  http2IdleTimeoutMs: 60_000,
  http2PingIntervalMs: 30_000,
  http2MaxConcurrentStreams: 100,
  // A client cancelling calls now and then is normal; thousands a second is a rapid-reset attack.
  http2MaxResets: 500,
  http2ResetWindowMs: 10_000,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
};
