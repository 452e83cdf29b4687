import type * as http2 from "node:http2";
import type { ServerLimits } from "./server-limits.js";

/**
 * Keeps HTTP/2 sessions from being held open for nothing: a session with no open stream for the
 * idle timeout gets GOAWAY; one with open streams (a WatchWorkers stream may be quiet for hours)
 * is not idle, and is pinged so a dead peer is noticed and middleboxes keep the connection. A
 * stream whose request has not fully arrived within the request timeout is cancelled.
 */
export function superviseSession(
  session: http2.ServerHttp2Session,
  limits: Pick<ServerLimits, "http2IdleTimeoutMs" | "http2PingIntervalMs" | "requestTimeoutMs">,
  cancelCode: number,
): void {
  let open = 0;
  let lastActive = Date.now();
  let lastPing = Date.now();
  let pingPending = false;
  session.on("stream", (stream: http2.ServerHttp2Stream) => {
    open++;
    lastActive = Date.now();
    const slow = setTimeout(() => {
      // remoteClose: the client ended its half, whether or not the handler has read it all.
      if (!stream.closed && stream.state.remoteClose !== 1) stream.close(cancelCode);
    }, limits.requestTimeoutMs);
    slow.unref();
    stream.once("close", () => {
      clearTimeout(slow);
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
