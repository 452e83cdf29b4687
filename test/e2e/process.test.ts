import { type ChildProcess, spawn } from "node:child_process";
import * as http2 from "node:http2";
import * as net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildMuster } from "../support/muster-process.js";

interface Outcome {
  readonly response: string;
  readonly error: string | undefined;
}

/** A raw HTTP/1.1 exchange whose request is sent in two parts, the second on `release`. */
function splitRequest(port: number, first: string, rest: string, release: Promise<void>) {
  return new Promise<Outcome>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let response = "";
    let error: string | undefined;
    socket.on("data", (chunk) => {
      response += chunk.toString();
    });
    socket.on("error", (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on("close", () => resolve({ response, error }));
    socket.once("connect", () => {
      socket.write(first);
      void release.then(() => socket.write(rest));
    });
  });
}

/** POST to the ClearML API with a client-side deadline, so a frozen server fails the test. */
async function post(port: number, path: string, body: unknown, timeoutMs: number) {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: res.status, body: (await res.json()) as { data: unknown } };
}

/**
 * A real muster process (the compiled dist/main.js): what must not freeze it, and SIGTERM while
 * requests are in flight or still being sniffed. Out of process, so a server that freezes fails
 * the test by a deadline instead of freezing the test runner with it.
 */
describe("muster process", () => {
  let build: Awaited<ReturnType<typeof buildMuster>> | undefined;
  let main: string;
  beforeAll(async () => {
    build = await buildMuster();
    main = build.main;
  }, 120_000);
  afterAll(async () => {
    await build?.remove();
  });

  it("answers the worst glob at the maximum pattern length while serving other calls", async () => {
    const { child, port } = await startMuster(main);
    try {
      const worker = "a".repeat(256);
      expect((await post(port, "/workers.register", { worker }, 10_000)).status).toBe(200);
      // Few enough "a"s for the id to hold them (a regex engine fails at once when the pattern needs
      // more characters than the id has), every star a place to backtrack to, and no final "b".
      const worst = `${"*".repeat(1007)}${"a*".repeat(8)}b`;
      expect(worst).toHaveLength(1024);
      // Generous deadlines: the backtracking regex took minutes; the matcher takes milliseconds.
      const [slow, other] = await Promise.all([
        post(port, "/workers.get_count", { worker_pattern: worst }, 20_000),
        new Promise((resolve) => setTimeout(resolve, 50)).then(() =>
          post(port, "/workers.get_count", {}, 20_000),
        ),
      ]);
      expect(slow.body.data).toEqual({ count: 0 });
      expect(other.body.data).toEqual({ count: 1 });
    } finally {
      child.kill("SIGKILL");
    }
  }, 60_000);

  it("on SIGTERM serves requests in flight or being sniffed, then exits 0", async () => {
    const { child, port } = await startMuster(main);
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const request = "GET /workers.get_count HTTP/1.1\r\nHost: x\r\n\r\n";
    const outcomes = [
      // Past sniffing (a first byte that is not HTTP/2's), headers incomplete.
      ...[1, 2, 3].map(() => splitRequest(port, request.slice(0, 20), request.slice(20), released)),
      // Still being sniffed: "P" may start the HTTP/2 preface.
      ...[1, 2, 3].map(() =>
        splitRequest(
          port,
          "P",
          "OST /workers.get_count HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
          released,
        ),
      ),
    ];
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill("SIGTERM");
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    for (const outcome of await Promise.all(outcomes)) {
      expect(outcome.error).toBeUndefined();
      expect(outcome.response).toMatch(/^HTTP\/1\.1 200 /);
      expect(outcome.response).toContain('"count":0');
      // The connection is not kept for more requests.
      expect(outcome.response).toMatch(/connection: close/i);
    }
    expect(await exit).toBe(0);
    // Stopped accepting: a new connection is refused.
    await expect(
      new Promise((resolve, reject) => {
        const socket = net.connect(port, "127.0.0.1", () => resolve(socket));
        socket.once("error", reject);
      }),
    ).rejects.toThrow(/ECONNREFUSED/);
  }, 30_000);

  it("on SIGTERM finishes an HTTP/2 call in flight and refuses new streams with GOAWAY", async () => {
    const { child, port } = await startMuster(main);
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on("error", () => {});
    const goaway = new Promise<void>((resolve) => session.once("goaway", () => resolve()));
    const stream = session.request({ ":method": "POST", ":path": "/workers.get_count" });
    stream.write("{");
    const answered = new Promise<number>((resolve, reject) => {
      let status = 0;
      stream.on("response", (h) => {
        status = Number(h[":status"]);
      });
      stream.on("error", reject);
      stream.on("close", () => resolve(status));
      stream.resume();
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    child.kill("SIGTERM");
    await goaway;
    stream.end("}");
    expect(await answered).toBe(200);
    session.destroy();
    expect(await exit).toBe(0);
  }, 30_000);
});

/** Starts muster on a free port (it prints the URL it listens on) and waits for it. */
async function startMuster(main: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [main, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`muster exited with ${code}: ${stderr}`)));
  });
  return { child, port };
}
