import { mkdtemp } from "node:fs/promises";
import * as net from "node:net";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { findBinary, freePort, goInstalled, serverProcess, waitUntil } from "./server-process.js";

/** A real nats-server with JetStream on a loopback port, its store in a temporary directory. */
export interface NatsServerHandle {
  readonly url: string;
  readonly port: number;
  readonly storeDir: string;
  /** Stops the process (the store directory stays, so `start` brings the same data back). */
  stop(): Promise<void>;
  /** Starts it again on the same port and store directory. */
  start(): Promise<void>;
  /** Stops it and removes the store directory. */
  close(): Promise<void>;
}

/**
 * The nats-server binary: $NATS_SERVER_BIN, else `nats-server` on PATH, else Go's default install
 * directory. Throws when there is none: these tests must fail, not skip, on a machine without it.
 */
export function natsServerBinary(env: NodeJS.ProcessEnv = process.env): string {
  return findBinary(
    {
      name: "nats-server",
      envVar: "NATS_SERVER_BIN",
      fallbacks: [goInstalled("nats-server", env), "/root/go/bin/nats-server"],
      installHint:
        "install it with `go install github.com/nats-io/nats-server/v2@v2.15.2` or set NATS_SERVER_BIN",
    },
    env,
  );
}

export async function startNatsServer(): Promise<NatsServerHandle> {
  const binary = natsServerBinary();
  const storeDir = await mkdtemp(path.join(tmpdir(), "muster-nats-"));
  const port = await freePort();
  const server = serverProcess({
    name: "nats-server",
    binary,
    args: ["-js", "-a", "127.0.0.1", "-p", String(port), "-sd", storeDir],
    dir: storeDir,
    // The INFO greeting means it serves clients and JetStream.
    waitReady: () =>
      waitUntil(
        () => greets(port),
        15_000,
        `nats-server did not accept connections on port ${port}`,
      ),
    killAfterMs: 5000,
  });
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return { url: `nats://127.0.0.1:${port}`, port, storeDir, ...server };
}

export function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("data", (data) => done(data.toString().startsWith("INFO ")));
  });
}
