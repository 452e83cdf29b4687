import pino from "pino";
import { MemoryPresenceStore } from "../../src/presence/memory.js";
import { type RunningServer, startServer } from "../../src/server.js";
import { MemoryStatsStore } from "../../src/stats/memory.js";
import { systemClock } from "../../src/workers/clock.js";
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
  /** `port` reuses a port, e.g. to restart muster under a connected browser. */
  server: { corsOrigins?: readonly string[]; port?: number } = {},
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
