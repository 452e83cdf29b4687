import pino, { type Logger } from "pino";
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
  close(): Promise<void>;
}

/** A real muster server on a free loopback port, with the embedded stores. */
export async function startTestServer(
  options: Partial<ServiceOptions> = {},
  server: {
    corsOrigins?: readonly string[];
    /** Reuses a port, e.g. to restart muster under a connected browser. */
    port?: number;
    limits?: Partial<ServerLimits>;
    log?: Logger;
  } = {},
): Promise<TestServer> {
  const muster = await createMuster({
    presence: new MemoryPresenceStore(systemClock),
    stats: new MemoryStatsStore(systemClock),
    clock: systemClock,
    service: options,
    ...server,
    log: server.log ?? pino({ level: "silent" }),
  });
  return {
    server: muster.server,
    url: muster.server.url,
    port: muster.server.port,
    close: () => muster.close(),
  };
}
