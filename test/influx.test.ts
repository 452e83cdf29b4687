import { afterAll, beforeAll } from "vitest";
import { MemoryPresenceStore } from "../src/presence/memory.js";
import { InfluxStatsStore } from "../src/stats/influx.js";
import { quoteIdent } from "../src/stats/influxql.js";
import { serviceContract } from "./contract/service.contract.js";
import { type InfluxdHandle, startInfluxd } from "./harness/influxd.js";

const DAY = 86_400_000;

let influxd: InfluxdHandle;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
});

let databases = 0;
/** A store on a database no other test uses. */
async function openStore(): Promise<InfluxStatsStore> {
  return InfluxStatsStore.open({
    url: influxd.url,
    database: `muster_test_${++databases}`,
    retentionMs: 30 * DAY,
  });
}

/** Runs one InfluxQL statement directly against influxd, outside the store. */
async function influxql(q: string, db?: string): Promise<unknown> {
  const form = new URLSearchParams({ q, epoch: "ms" });
  if (db !== undefined) form.set("db", db);
  const response = await fetch(`${influxd.url}/query`, { method: "POST", body: form });
  return response.json();
}

serviceContract("memory presence + InfluxDB stats", async (clock) => {
  const presence = new MemoryPresenceStore(clock);
  const stats = await openStore();
  return {
    presence,
    stats,
    async close() {
      await Promise.all([presence.close(), stats.close()]);
      await influxql(`DROP DATABASE ${quoteIdent(stats.database)}`);
    },
  };
});
