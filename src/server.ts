import { setMaxListeners } from "node:events";
import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import type { DescMethod } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Authenticator } from "./auth/authenticator.js";
import { clearmlHandler } from "./compat/handler.js";
import { allOperations } from "./compat/operations.js";
import { isClientGone } from "./core/client-gone.js";
import type { CallContext } from "./core/identity.js";
import { corsPolicy } from "./cors.js";
import { connectionCap, openFilesLimit } from "./fd-limit.js";
import type { NodeRequest } from "./http-types.js";
import { superviseSession } from "./http2-sessions.js";
import type { ServerOps } from "./ops/ops.js";
import { authInterceptor } from "./rpc/auth-interceptor.js";
import { clientIpKey, clientIpOf } from "./rpc/context.js";
import { musterNodeAdapter } from "./rpc/node-adapter.js";
import { musterRoutes, type RoutedServices } from "./rpc/routes.js";
import { DEFAULT_SERVER_LIMITS, type ServerLimits } from "./server-limits.js";
import { sniffProtocol } from "./sniff.js";
import { staticFiles } from "./ui/static.js";

export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly services: RoutedServices;
  /** Who each call is, from its Authorization header, on every protocol. */
  readonly authenticator: Authenticator;
  readonly log: Logger;
  /** Origins browsers may call from ("*" for any); none by default. */
  readonly corsOrigins?: readonly string[];
  /** Overrides of DEFAULT_SERVER_LIMITS. */
  readonly limits?: Partial<ServerLimits>;
  /** Serve the dashboard (dist-web/) at "/"; on by default. */
  readonly ui?: boolean;
  /** Health, metrics, request log and operator paths (src/ops); none in a bare server. */
  readonly ops?: ServerOps;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  /** http://host:port */
  readonly url: string;
  /** Stops accepting, lets calls in flight finish (up to `graceMs`), then closes every connection. */
  close(graceMs?: number): Promise<void>;
}

/**
 * One listener for every protocol: each connection's first bytes say whether it is HTTP/2 without
 * TLS (gRPC, Connect, gRPC-Web over h2c) or HTTP/1.1 (Connect, gRPC-Web, the ClearML JSON layer),
 * and it is handed to the Node server for that protocol. Both run the same request handler.
 */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { log } = options;
  const { authenticator, services } = options;
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...options.limits };
  const clientIp = (req: NodeRequest) => clientIpOf(req.headers, req.socket?.remoteAddress);
  // Who is calling: the ClearML layer asks here; the Connect routes' interceptor does the same.
  const contextOf = async (req: NodeRequest, method: DescMethod): Promise<CallContext> => ({
    identity: await authenticator.authorizeCall(firstHeader(req.headers.authorization), method),
    ...optionalIp(clientIp(req)),
  });
  const { ops } = options;
  const clearml = clearmlHandler({
    operations: allOperations(services),
    contextOf,
    log,
    ...(ops && { onCall: (req, call) => ops.clearmlCall(call, clientIp(req)) }),
  });
  const ui = options.ui === false ? async () => false : staticFiles();
  // Aborted by close(): ends streams such as WatchWorkers, which would otherwise run until the
  // client goes away.
  const shutdown = new AbortController();
  // connect-node links every call's signal to this one: one listener per call in flight, so
  // Node's default warning at 11 listeners would fire under any real load.
  setMaxListeners(0, shutdown.signal);
  const handler = musterNodeAdapter({
    log,
    shutdownSignal: shutdown.signal,
    // Applies to the decompressed size too: connect-node inflates with this as the output limit.
    readMaxBytes: limits.readMaxBytes,
    writeMaxBytes: limits.writeMaxBytes,
    routes: (router) => {
      musterRoutes(services, log, ops?.services)(router);
      ops?.routes(router);
    },
    // Metrics and the request log outermost, so refused calls are counted and logged too.
    interceptors: [...(ops?.interceptors ?? []), authInterceptor(authenticator, log)],
    contextValues: (req) => createContextValues().set(clientIpKey, clientIp(req)),
    fallback: (req, res) => {
      // The dashboard's few paths first; everything else is the ClearML layer's.
      (async () => (await ui(req, res)) || (await clearml(req, res)))().catch((error: unknown) => {
        if (isClientGone(error)) log.debug({ err: error }, "client went away");
        else log.error({ err: error }, "dashboard or ClearML handler failed");
        res.destroy();
      });
    },
  });

  // Set by close(): requests still arriving are served, on connections that then end.
  let shuttingDown = false;
  const cors = corsPolicy(options.corsOrigins ?? []);
  const tracked: typeof handler = (req, res) => {
    // HTTP/1.1 only: HTTP/2 has no Connection header (its sessions get GOAWAY instead).
    if (shuttingDown && req.httpVersionMajor === 1) res.setHeader("connection", "close");
    const opsAnswer = ops?.http(req);
    if (opsAnswer !== undefined) {
      opsAnswer(res).catch((error: unknown) => {
        log.error({ err: error }, "operator endpoint failed");
        res.destroy();
      });
    } else if (!cors(req, res)) handler(req, res);
  };
  const http1Server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node checks the two timeouts above.
      connectionsCheckingInterval: Math.max(
        10,
        Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) / 4,
      ),
    },
    tracked,
  );
  // This server never listens itself (the listener hands it sockets), and Node starts the checks of
  // headersTimeout and requestTimeout on "listening": start them here.
  http1Server.emit("listening");
  const http2Server = http2.createServer(
    { settings: { maxConcurrentStreams: limits.http2MaxConcurrentStreams } },
    tracked,
  );
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
    // A connection sniffed while shutting down: let nghttp2 take the streams already sent (one
    // turn of the event loop), serve them, and accept no more.
    if (shuttingDown) setImmediate(() => session.close());
    const { NGHTTP2_CANCEL, NGHTTP2_ENHANCE_YOUR_CALM, NGHTTP2_NO_ERROR } = http2.constants;
    superviseSession(
      session,
      limits,
      {
        cancel: NGHTTP2_CANCEL,
        enhanceYourCalm: NGHTTP2_ENHANCE_YOUR_CALM,
        noError: NGHTTP2_NO_ERROR,
      },
      (resets) =>
        log.warn(
          { resets, windowMs: limits.http2ResetWindowMs, peer: session.socket?.remoteAddress },
          "HTTP/2 client reset too many streams: GOAWAY",
        ),
    );
  });

  const listener = net.createServer(async (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // RPCs are small request/response exchanges: Nagle's delay would add ~40 ms to each.
    socket.setNoDelay(true);
    // Notices peers that vanished without a FIN on connections kept open (WatchWorkers).
    socket.setKeepAlive(true, 60_000);
    socket.on("error", (error) => log.debug({ err: error }, "connection error"));
    const sniffed = await sniffProtocol(socket, limits.firstBytesTimeoutMs);
    if (sniffed === undefined || socket.destroyed) return;
    // Both servers take the socket itself with the sniffed bytes pushed back: HTTP/1.1 reads them
    // as a stream, and an HTTP/2 session feeds bytes already buffered on its socket to nghttp2
    // before reading the socket natively.
    socket.unshift(sniffed.head);
    if (sniffed.protocol === "http2") {
      http2Server.emit("connection", socket);
    } else {
      http1Server.emit("connection", socket);
      socket.resume();
    }
  });

  // Past the cap Node closes each new connection on accept; the warning is rate-limited so a flood
  // cannot flood the log too.
  listener.maxConnections = connectionCap(limits.maxConnections, openFilesLimit());
  if (listener.maxConnections < limits.maxConnections) {
    // Expected on machines with a small ulimit -n: said once at startup, not a fault.
    log.info(
      { maxConnections: listener.maxConnections, wanted: limits.maxConnections },
      `connection cap lowered to ${listener.maxConnections} to fit the open files limit (ulimit -n)`,
    );
  }
  const warnDropped = rateLimitedWarning(log, 60_000);
  listener.on("drop", () => warnDropped(listener.maxConnections));

  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(options.port, options.host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  const address = listener.address() as net.AddressInfo;
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;

  return {
    host: address.address,
    port: address.port,
    url: `http://${host}:${address.port}`,
    async close(graceMs = 2000) {
      // First stop accepting; connections already accepted (even those still being sniffed) get
      // their requests served, then end: HTTP/1.1 ones after their response or when idle, HTTP/2
      // sessions after GOAWAY once their streams are done. Only what is left at the deadline is
      // dropped.
      await ops?.drain();
      shuttingDown = true;
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      shutdown.abort(new ConnectError("muster is shutting down", Code.Unavailable));
      for (const session of sessions) session.close();
      const deadline = Date.now() + graceMs;
      while (sockets.size > 0 && Date.now() < deadline) {
        http1Server.closeIdleConnections();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      for (const socket of sockets) socket.destroy();
      // Stops its timeout checks; it has no listening socket of its own to close.
      http1Server.close(() => {});
      await closed;
    },
  };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** A warning when connections are refused at the cap: once, then at most once per `everyMs`. */
function rateLimitedWarning(log: Logger, everyMs: number): (cap: number) => void {
  let dropped = 0;
  let lastWarnMs = Number.NEGATIVE_INFINITY;
  return (cap) => {
    dropped++;
    const now = Date.now();
    if (now - lastWarnMs < everyMs) return;
    log.warn(
      { maxConnections: cap, refused: dropped },
      `connection cap reached: refusing new connections beyond ${cap} (--max-connections); ${dropped} refused since the last warning`,
    );
    lastWarnMs = now;
    dropped = 0;
  };
}

function optionalIp(ip: string | undefined): { clientIp?: string } {
  return ip === undefined ? {} : { clientIp: ip };
}
