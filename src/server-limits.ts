/**
 * What one client may take of the server: message sizes, how long a connection may sit idle, how
 * many connections and HTTP/2 streams may be open. Defaults suit production; tests shrink them.
 */
export interface ServerLimits {
  /** Largest RPC request message, after decompression (RESOURCE_EXHAUSTED beyond it). */
  readonly readMaxBytes: number;
  /** Largest RPC response message (the call fails with RESOURCE_EXHAUSTED beyond it). */
  readonly writeMaxBytes: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  // The ClearML path's body limit: a status report is a few kilobytes.
  readMaxBytes: 4 * 1024 * 1024,
  // get_all of 100,000 ordinary workers is about 30 MB.
  writeMaxBytes: 64 * 1024 * 1024,
};
