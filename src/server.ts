import * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { Code, ConnectError, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Logger } from "pino";
import { clearmlHandler } from "./compat/handler.js";
import { type CallContext, DEFAULT_IDENTITY } from "./core/identity.js";
import { corsPolicy } from "./cors.js";
import type { NodeRequest } from "./http-types.js";
import type { ServerOps } from "./ops/ops.js";
import { callContextKey, clientIpOf } from "./rpc/context.js";
import { workersRoutes } from "./rpc/routes.js";
import { sniffProtocol } from "./sniff.js";
import type { WorkersApi } from "./workers/api.js";

export interface ServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly service: WorkersApi;
  readonly log: Logger;
  /** Origins browsers may call from ("*" for any); none by default. */
  readonly corsOrigins?: readonly string[];
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
  // Who is calling: the Connect routes read it from the context values, the ClearML layer directly.
  const requestContextOf = (req: NodeRequest): CallContext => ({
    identity: DEFAULT_IDENTITY,
    ...optionalIp(clientIpOf(req.headers, req.socket?.remoteAddress)),
  });
  const { ops } = options;
  const clearml = clearmlHandler({
    service: options.service,
    requestContextOf,
    log,
    ...(ops && { onCall: (req, call) => ops.clearmlCall(call, requestContextOf(req)) }),
  });
  // Aborted by close(): ends streams such as WatchWorkers, which would otherwise run until the
  // client goes away.
  const shutdown = new AbortController();
  const handler = connectNodeAdapter({
    shutdownSignal: shutdown.signal,
    routes: (router) => {
      workersRoutes(options.service, log, ops?.services)(router);
      ops?.routes(router);
    },
    interceptors: ops?.interceptors ?? [],
    contextValues: (req) => createContextValues().set(callContextKey, requestContextOf(req)),
    fallback: (req, res) => {
      clearml(req, res).catch((error: unknown) => {
        log.error({ err: error }, "ClearML handler failed");
        res.destroy();
      });
    },
  });

  // Calls in flight, so close() can let them finish before it drops the connections.
  let inFlight = 0;
  const cors = corsPolicy(options.corsOrigins ?? []);
  const tracked: typeof handler = (req, res) => {
    inFlight++;
    res.once("close", () => inFlight--);
    const opsAnswer = ops?.http(req);
    if (opsAnswer !== undefined) {
      opsAnswer(res).catch((error: unknown) => {
        log.error({ err: error }, "operator endpoint failed");
        res.destroy();
      });
    } else if (!cors(req, res)) handler(req, res);
  };
  const http1Server = http.createServer(tracked);
  const http2Server = http2.createServer(tracked);
  const sockets = new Set<net.Socket>();
  const sessions = new Set<http2.ServerHttp2Session>();
  http2Server.on("session", (session) => {
    sessions.add(session);
    session.once("close", () => sessions.delete(session));
  });

  const listener = net.createServer(async (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
    // RPCs are small request/response exchanges: Nagle's delay would add ~40 ms to each.
    socket.setNoDelay(true);
    socket.on("error", (error) => log.debug({ err: error }, "connection error"));
    const sniffed = await sniffProtocol(socket);
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
      await ops?.drain();
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      shutdown.abort(new ConnectError("muster is shutting down", Code.Unavailable));
      for (const session of sessions) session.close();
      const deadline = Date.now() + graceMs;
      while (inFlight > 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      for (const socket of sockets) socket.destroy();
      await closed;
    },
  };
}

function optionalIp(ip: string | undefined): { clientIp?: string } {
  return ip === undefined ? {} : { clientIp: ip };
}
