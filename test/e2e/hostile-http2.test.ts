import * as http2 from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearml } from "../support/clearml.js";
import { grpcFrame } from "../support/raw-http.js";
import { startTestServer, type TestServer } from "../support/server.js";

const WATCH = "/muster.workers.v1.WorkersService/WatchWorkers";
const grpcHeaders = { ":method": "POST", "content-type": "application/grpc", te: "trailers" };

function connected(url: string): Promise<http2.ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(url);
    session.once("remoteSettings", () => resolve(session));
    session.once("error", reject);
  });
}

describe("HTTP/2 stream abuse", () => {
  let muster: TestServer;
  const lines: string[] = [];
  beforeAll(async () => {
    const { default: pino } = await import("pino");
    const log = pino({ level: "warn" }, { write: (line: string) => lines.push(line) });
    muster = await startTestServer({}, { limits: { http2MaxResets: 50 }, log });
  });
  afterAll(async () => {
    await muster.close();
  });

  it("advertises at most 100 concurrent streams and serves no more at once", async () => {
    const session = await connected(muster.url);
    session.on("error", () => {});
    try {
      expect(session.remoteSettings.maxConcurrentStreams).toBe(100);
      // WatchWorkers streams stay open: 150 asked, 100 answered while they are.
      let answered = 0;
      const streams = Array.from({ length: 150 }, () => {
        const stream = session.request({ ...grpcHeaders, ":path": WATCH });
        stream.on("error", () => {});
        stream.once("response", () => answered++);
        stream.end(grpcFrame(new Uint8Array()));
        return stream;
      });
      const deadline = Date.now() + 5_000;
      while (answered < 100 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(answered).toBe(100);
      for (const stream of streams) stream.close(http2.constants.NGHTTP2_NO_ERROR);
    } finally {
      session.destroy();
    }
  });

  it("ends a rapid-reset session with GOAWAY while other clients are answered", async () => {
    const session = await connected(muster.url);
    session.on("error", () => {});
    const goaway = new Promise<number>((resolve) =>
      session.once("goaway", (code) => resolve(code)),
    );
    const closed = new Promise<void>((resolve) => session.once("close", () => resolve()));
    const burst = (async () => {
      for (let i = 0; i < 2_000 && !session.closed && !session.destroyed; i++) {
        const stream = session.request({ ...grpcHeaders, ":path": WATCH });
        stream.on("error", () => {});
        stream.close(http2.constants.NGHTTP2_CANCEL);
        if (i % 20 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const other = await clearml(muster.url, "/workers.get_count", {});
    expect(other.status).toBe(200);
    await burst;
    expect(await goaway).toBe(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    await closed;
    expect(lines.filter((l) => l.includes("reset too many streams"))).toHaveLength(1);
    expect((await clearml(muster.url, "/workers.get_count", {})).status).toBe(200);
  });
});
