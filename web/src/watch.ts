// Keeps the fleet store live from WatchWorkers: the first message is a snapshot, then joined /
// updated / left events. When the stream breaks (muster restarted, network gone) it reconnects with
// a growing delay and says so; the next snapshot replaces whatever changed meanwhile.
import { ConnectError } from "@connectrpc/connect";
import { withSignIn, workers } from "./api.js";
import type { FleetStore } from "./fleet-store.js";

export type Connection =
  | { readonly state: "connecting" }
  | { readonly state: "live"; readonly since: number; readonly reconnected: boolean }
  | { readonly state: "reconnecting"; readonly attempt: number; readonly reason: string };

/** Waits between attempts: quick at first (a restart takes a second), then at most 5 s. */
const BACKOFF_MS = [250, 500, 1000, 2000, 5000];

export function watchFleet(store: FleetStore, report: (connection: Connection) => void): void {
  let attempt = 0;
  let everLive = false;
  let lastReason = "";
  const run = async (): Promise<void> => {
    for (;;) {
      report(attempt === 0 ? { state: "connecting" } : reconnecting(attempt, lastReason));
      try {
        await withSignIn(() => follow());
        lastReason = "muster ended the stream";
      } catch (error) {
        lastReason = ConnectError.from(error).rawMessage;
      }
      attempt++;
      report(reconnecting(attempt, lastReason));
      await sleep(BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length) - 1] ?? 5000);
    }
  };

  /** One stream, until it ends or breaks. */
  const follow = async (): Promise<void> => {
    performance.mark("watch-started");
    for await (const message of workers.watchWorkers({})) {
      const event = message.event;
      switch (event.case) {
        case "snapshot":
          // Tests and curious users split the first screen's time: muster and the wire, then the page.
          performance.mark("snapshot-received");
          store.reset(event.value.workers);
          report({ state: "live", since: Date.now(), reconnected: everLive });
          everLive = true;
          attempt = 0;
          break;
        case "joined":
        case "updated":
          store.upsert(event.value);
          break;
        case "left":
          if (event.value.worker !== undefined) store.leave(event.value.worker, event.value.reason);
          break;
        default:
          break;
      }
    }
  };
  void run();
}

function reconnecting(attempt: number, reason: string): Connection {
  return { state: "reconnecting", attempt, reason };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
