import type * as net from "node:net";
import { Duplex } from "node:stream";

/** Every HTTP/2 connection without TLS (h2c, "prior knowledge") starts with this preface. */
const HTTP2_PREFACE = Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1");

export type Protocol = "http2" | "http1";

/**
 * Waits for enough of the first bytes of a connection to tell HTTP/2 from HTTP/1.x, and returns
 * them with the verdict. Resolves undefined if the connection ends first.
 */
export function sniffProtocol(
  socket: net.Socket,
): Promise<{ protocol: Protocol; head: Buffer } | undefined> {
  return new Promise((resolve) => {
    let head: Buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
      const compared = Math.min(head.length, HTTP2_PREFACE.length);
      const prefixMatches = head.subarray(0, compared).equals(HTTP2_PREFACE.subarray(0, compared));
      if (prefixMatches && compared < HTTP2_PREFACE.length) return; // too short to tell yet
      done({ protocol: prefixMatches ? "http2" : "http1", head });
    };
    const onEnd = () => done(undefined);
    const done = (result: { protocol: Protocol; head: Buffer } | undefined) => {
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

/**
 * A duplex over the socket that first replays bytes already read from it. Node's HTTP/2 session
 * reads its socket natively, so bytes pushed back with unshift() would never reach it.
 */
export function replayingSocket(socket: net.Socket, head: Buffer): Duplex {
  const duplex = new Duplex({
    read() {
      socket.resume();
    },
    write(chunk, encoding, callback) {
      socket.write(chunk, encoding, callback);
    },
    final(callback) {
      socket.end(callback);
    },
    destroy(error, callback) {
      socket.destroy(error ?? undefined);
      callback(error);
    },
  });
  duplex.push(head);
  socket.on("data", (chunk: Buffer) => {
    if (!duplex.push(chunk)) socket.pause();
  });
  socket.once("end", () => duplex.push(null));
  socket.once("error", (error) => duplex.destroy(error));
  socket.once("close", () => duplex.destroy());
  // What HTTP/2 and our handlers read from a socket besides its bytes.
  Object.assign(duplex, {
    remoteAddress: socket.remoteAddress,
    remotePort: socket.remotePort,
    remoteFamily: socket.remoteFamily,
    localAddress: socket.localAddress,
    localPort: socket.localPort,
    setTimeout: (ms: number, cb?: () => void) => socket.setTimeout(ms, cb),
    setNoDelay: (noDelay?: boolean) => socket.setNoDelay(noDelay),
    setKeepAlive: (enable?: boolean, delay?: number) => socket.setKeepAlive(enable, delay),
    ref: () => socket.ref(),
    unref: () => socket.unref(),
  });
  return duplex;
}
