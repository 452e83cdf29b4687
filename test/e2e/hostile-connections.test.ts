import * as http2 from "node:http2";
import * as net from "node:net";
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { clearml } from "../support/clearml.js";
import { startTestServer, type TestServer } from "../support/server.js";

/** Resolves when the socket closes; rejects after `withinMs` (generous: the limits are short). */
function closedWithin(socket: net.Socket, withinMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed) return resolve();
    const timer = setTimeout(() => reject(new Error(`still open after ${withinMs} ms`)), withinMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve();
    });
    socket.on("error", () => {});
    socket.resume();
  });
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
    socket.once("error", reject);
  });
}

describe("idle connections are closed", () => {
  let muster: TestServer;
  beforeAll(async () => {
    muster = await startTestServer(
      {},
      {
        limits: {
          firstBytesTimeoutMs: 300,
          headersTimeoutMs: 300,
          requestTimeoutMs: 600,
          keepAliveTimeoutMs: 300,
          http2IdleTimeoutMs: 400,
          // An unanswered ping ends the session: 200 ms was short enough for a busy CI machine
          // to miss once (the test process's loop stalled), cancelling the quiet stream below.
          http2PingIntervalMs: 500,
        },
      },
    );
  });
  afterAll(async () => {
    await muster.close();
  });

  it("closes a connection that sends nothing", async () => {
    const socket = await connect(muster.port);
    await closedWithin(socket, 5_000);
  });

  it("closes an HTTP/1.1 connection whose headers never end", async () => {
    const socket = await connect(muster.port);
    socket.write("POST /workers.get_count HTTP/1.1\r\nHost: x\r\n");
    await closedWithin(socket, 5_000);
  });

  it("closes an idle HTTP/1.1 keep-alive connection after a request", async () => {
    const socket = await connect(muster.port);
    const answered = new Promise<string>((resolve) => socket.once("data", (d) => resolve(`${d}`)));
    socket.write("GET /workers.get_count HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n");
    expect(await answered).toMatch(/^HTTP\/1\.1 200/);
    await closedWithin(socket, 5_000);
  });

  it("closes an HTTP/2 session with no streams", async () => {
    const session = http2.connect(muster.url);
    session.on("error", () => {});
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("session still open")), 5_000);
      session.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
    });
  });

  it("keeps a quiet WatchWorkers stream open past the idle timeout", async () => {
    const client = createClient(WorkersService, createGrpcTransport({ baseUrl: muster.url }));
    const abort = new AbortController();
    const events = client.watchWorkers({}, { signal: abort.signal })[Symbol.asyncIterator]();
    try {
      const first = await events.next();
      expect(first.value?.event.case).toBe("snapshot");
      // Several idle timeouts and ping intervals with nothing on the stream.
      await new Promise((resolve) => setTimeout(resolve, 1_600));
      await clearml(muster.url, "/workers.register", { worker: "quiet-watch" });
      const next = await events.next();
      expect(next.value?.event.case).toBe("joined");
    } finally {
      abort.abort();
      await clearml(muster.url, "/workers.unregister", { worker: "quiet-watch" });
    }
  });
});

describe("connection cap", () => {
  const lines: string[] = [];
  let muster: TestServer;
  beforeAll(async () => {
    const log = pino({ level: "warn" }, { write: (line: string) => lines.push(line) });
    muster = await startTestServer({}, { limits: { maxConnections: 5 }, log });
  });
  afterAll(async () => {
    await muster.close();
  });

  it("refuses connections beyond the cap with one warning, and serves again below it", async () => {
    const held = await Promise.all(Array.from({ length: 5 }, () => connect(muster.port)));
    // Beyond the cap each new connection is closed at once.
    const refused = await Promise.all(Array.from({ length: 10 }, () => connect(muster.port)));
    await Promise.all(refused.map((socket) => closedWithin(socket, 5_000)));
    const warnings = lines.filter((l) => l.includes("connection cap reached"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain("--max-connections");
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => setTimeout(resolve, 100));
    const res = await clearml(muster.url, "/workers.get_count", {});
    expect(res.status).toBe(200);
  });
});
