import { MemoryPresenceStore } from "../src/presence/memory/memory-presence-store.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { serviceContract } from "./contract/service.contract.js";

serviceContract("the memory stores", async (clock) => {
  const presence = new MemoryPresenceStore(clock);
  const stats = new MemoryStatsStore(clock);
  return {
    presence,
    stats,
    async close() {
      await Promise.all([presence.close(), stats.close()]);
    },
  };
});
