import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import type { LiveCredentials, ReloadResult } from "../../src/auth/live-credentials.js";
import { systemClock } from "../../src/core/clock.js";
import { createMuster } from "../../src/muster.js";
import { MemoryPresenceStore } from "../../src/presence/memory/memory-presence-store.js";
import type { RunningServer } from "../../src/server.js";
import type { ServerLimits } from "../../src/server-limits.js";
import { MemoryStatsStore } from "../../src/stats/memory/memory-stats-store.js";
import type { ServiceOptions } from "../../src/workers/service.js";

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly port: number;
  /** Re-reads the credentials file, as SIGHUP does. */
  reloadCredentials(): Promise<ReloadResult | undefined>;
  close(): Promise<void>;
}

export interface TestServerOptions {
  readonly corsOrigins?: readonly string[];
  readonly credentials?: LiveCredentials;
  readonly tokenSecret?: Uint8Array;
  readonly queues?: readonly string[];
  /** Reuses a port, e.g. to restart muster under a connected browser. */
  readonly port?: number;
  readonly limits?: Partial<ServerLimits>;
  /** Silent unless given (captureLog gives one that keeps every line). */
  readonly log?: Logger;
}

/** A real muster server on a free loopback port, with the embedded stores. */
export async function startTestServer(
  options: Partial<ServiceOptions> = {},
  server: TestServerOptions = {},
): Promise<TestServer> {
  const { log, ...rest } = server;
  const muster = await createMuster({
    presence: new MemoryPresenceStore(systemClock),
    stats: new MemoryStatsStore(systemClock),
    clock: systemClock,
    log: log ?? pino({ level: "silent" }),
    service: options,
    ...rest,
  });
  return {
    server: muster.server,
    url: muster.server.url,
    port: muster.server.port,
    reloadCredentials: () => muster.reloadCredentials(),
    close: () => muster.close(),
  };
}

/** A logger at trace level that keeps every line it writes, for tests that read muster's log. */
export function captureLog(): { log: Logger; text: () => string } {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { log: pino({ level: "trace" }, sink), text: () => lines.join("") };
}
