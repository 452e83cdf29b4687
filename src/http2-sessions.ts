import type * as http2 from "node:http2";
import type { ServerLimits } from "./server-limits.js";

/**
 * Keeps HTTP/2 sessions from being held open for nothing: a session with no open stream for the
 * idle timeout gets GOAWAY; one with open streams (a WatchWorkers stream may be quiet for hours)
 * is not idle, and is pinged so a dead peer is noticed and middleboxes keep the connection. A
 * stream whose request has not fully arrived within the request timeout is cancelled. A client
 * that resets streams faster than the limit (rapid reset) gets GOAWAY and the session is closed.
 */
export function superviseSession(
  session: http2.ServerHttp2Session,
  limits: Pick<
    ServerLimits,
    | "http2IdleTimeoutMs"
    | "http2PingIntervalMs"
    | "requestTimeoutMs"
    | "http2MaxResets"
    | "http2ResetWindowMs"
  >,
  codes: { readonly cancel: number; readonly enhanceYourCalm: number; readonly noError: number },
  onAbuse: (resets: number) => void,
): void {
  let resets = 0;
  let resetWindowStart = Date.now();
  const countReset = () => {
    const now = Date.now();
    if (now - resetWindowStart > limits.http2ResetWindowMs) {
      resetWindowStart = now;
      resets = 0;
    }
    resets++;
    if (resets === limits.http2MaxResets + 1) {
      onAbuse(resets);
      session.goaway(codes.enhanceYourCalm);
      session.destroy();
    }
  };
  let open = 0;
  let lastActive = Date.now();
  let lastPing = Date.now();
  let pingPending = false;
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    lastActive = Date.now();
    let cancelledHere = false;
    const slow = setTimeout(() => {
      // remoteClose: the client ended its half, whether or not the handler has read it all.
      if (!stream.closed && stream.state.remoteClose !== 1) {
        cancelledHere = true;
        stream.close(codes.cancel);
      }
    }, limits.requestTimeoutMs);
    slow.unref();
    stream.once("close", () => {
      clearTimeout(slow);
      // Non-zero rstCode on a stream this server did not cancel: the client reset it.
      if (!cancelledHere && stream.rstCode !== codes.noError) countReset();
      open--;
      lastActive = Date.now();
    });
  });
  const checkEveryMs = Math.max(
    10,
    Math.min(limits.http2IdleTimeoutMs, limits.http2PingIntervalMs) / 2,
  );
  const timer = setInterval(() => {
    if (session.closed || session.destroyed) return;
    const now = Date.now();
    if (open === 0) {
      if (now - lastActive >= limits.http2IdleTimeoutMs) session.close();
      return;
    }
    if (now - lastPing < limits.http2PingIntervalMs) return;
    if (pingPending) {
      // The last ping went unanswered for a whole interval: the peer is gone.
      session.destroy();
      return;
    }
    lastPing = now;
    pingPending = true;
    try {
      session.ping((error) => {
        pingPending = false;
        if (error !== null) session.destroy();
      });
    } catch {
      session.destroy();
    }
  }, checkEveryMs);
  timer.unref();
  session.once("close", () => clearInterval(timer));
}
