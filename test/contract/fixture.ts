import type { PresenceStore } from "../../src/core/presence-store.js";
import type { StatsStore } from "../../src/core/stats-store.js";
import type { ManualClock } from "../support/clock.js";

/**
 * A pair of stores for the contract suites, sharing the suite's clock. Each call must give stores
 * that see no data of earlier calls (a fresh bucket, database or instance).
 */
export interface StoreFixture {
  readonly presence: PresenceStore;
  readonly stats: StatsStore;
  close(): Promise<void>;
}

export type StoreFactory = (clock: ManualClock) => Promise<StoreFixture>;
