import pino from "pino";
import { systemClock } from "../../src/core/clock.js";
import { MemoryPresenceStore } from "../../src/presence/memory/memory-presence-store.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { MemoryStatsStore } from "../../src/stats/memory/memory-stats-store.js";
import { type ServiceOptions, WorkersService } from "../../src/workers/service.js";

export interface TestServer {
  readonly server: RunningServer;
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** A real muster server on a free loopback port, with the embedded stores. */
export async function startTestServer(
  options: Partial<ServiceOptions> = {},
  server: { corsOrigins?: readonly string[] } = {},
): Promise<TestServer> {
  const presence = new MemoryPresenceStore(systemClock);
  const stats = new MemoryStatsStore(systemClock);
  const service = new WorkersService({ presence, stats, clock: systemClock, options });
  const running = await startServer({
    host: "127.0.0.1",
    port: 0,
    service,
    log: pino({ level: "silent" }),
    ...server,
  });
  return {
    server: running,
    url: running.url,
    port: running.port,
    async close() {
      await running.close();
      await Promise.all([presence.close(), stats.close()]);
    },
  };
}
