import * as http2 from "node:http2";
import * as net from "node:net";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearml } from "../support/clearml.js";
import { grpcFrame } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Clients that go away mid-call: normal on a network, so never an error in the log. */
describe("client hang-ups", () => {
  const lines: { level: number; msg: string }[] = [];
  let muster: TestServer;
  beforeAll(async () => {
    const log = pino({ level: "debug" }, { write: (line: string) => lines.push(JSON.parse(line)) });
    muster = await startTestServer({}, { log });
  });
  afterAll(async () => {
    await muster.close();
  });

  const hangUpAfter = async (text: string) => {
    const socket = net.connect(muster.port, "127.0.0.1");
    socket.on("error", () => {});
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(text);
    await pause(50);
    socket.resetAndDestroy();
  };

  it("logs a ClearML request aborted mid-body at debug level only", async () => {
    await hangUpAfter(
      'POST /workers.register HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"worker":',
    );
    await pause(100);
  });

  it("logs a Connect request aborted mid-body at debug level only", async () => {
    await hangUpAfter(
      'POST /muster.workers.v1.WorkersService/Register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"worker":',
    );
    await pause(100);
  });

  it("logs WatchWorkers and unary streams reset by the client at debug level only", async () => {
    for (let round = 0; round < 5; round++) {
      const session = http2.connect(muster.url);
      session.on("error", () => {});
      const headers = { ":method": "POST", "content-type": "application/grpc", te: "trailers" };
      const watch = session.request({
        ...headers,
        ":path": "/muster.workers.v1.WorkersService/WatchWorkers",
      });
      watch.on("error", () => {});
      watch.end(grpcFrame(new Uint8Array()));
      await new Promise((resolve) => watch.once("response", resolve));
      const unary = session.request({
        ...headers,
        ":path": "/muster.workers.v1.WorkersService/Register",
      });
      unary.on("error", () => {});
      unary.write(Buffer.from([0, 0, 0, 0, 100]));
      await pause(30);
      if (round % 2 === 0) session.destroy();
      else {
        watch.close(http2.constants.NGHTTP2_CANCEL);
        unary.close(http2.constants.NGHTTP2_CANCEL);
        await pause(30);
        session.destroy();
      }
    }
    await pause(200);
    // Still serving.
    expect((await clearml(muster.url, "/workers.get_count", {})).status).toBe(200);
  });

  it("logged nothing at warn level or above", () => {
    const loud = lines.filter((l) => l.level >= 40);
    expect(loud).toEqual([]);
  });
});
