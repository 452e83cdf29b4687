import type * as net from "node:net";

/** Every HTTP/2 connection without TLS (h2c, "prior knowledge") starts with this preface. */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type Protocol = "http2" | "http1";

/**
 * Waits for enough of the first bytes of a connection to tell HTTP/2 from HTTP/1.x, and returns
 * them with the verdict. Resolves undefined if the connection ends first, or if it has not said
 * enough within `timeoutMs` (then the socket is destroyed: a silent connection holds a descriptor).
 */
export function sniffProtocol(
  socket: net.Socket,
  timeoutMs: number,
): Promise<{ protocol: Protocol; head: Buffer } | undefined> {
  return new Promise((resolve) => {
    let head: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => {
      done(undefined);
      socket.destroy();
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, HTTP2_PREFACE.length);
      const prefixMatches = head.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      if (prefixMatches && compared < HTTP2_PREFACE.length) return; // too short to tell yet
      done({ protocol: prefixMatches ? "http2" : "http1", head });
    };
    const onEnd = () => done(undefined);
    const done = (result: { protocol: Protocol; head: Buffer } | undefined) => {
      clearTimeout(timer);
      socket.off("data", onData);
      socket.off("end", onEnd);
      socket.off("close", onEnd);
      socket.pause();
      resolve(result);
    };
    socket.on("data", onData);
    socket.once("end", onEnd);
    socket.once("close", onEnd);
  });
}
