import { InfluxStatsStore } from "../../src/stats/influx/influx-stats-store.js";
import { quoteIdent } from "../../src/stats/influx/influxql.js";
import type { InfluxdHandle } from "../harness/influxd.js";

const DAY = 86_400_000;

interface QueryAnswer {
  results: {
    series?: { columns: string[]; values: unknown[][]; tags?: Record<string, string> }[];
  }[];
  error?: string;
}

/**
 * What the InfluxDB test files do with their influxd besides running muster on it: stores on
 * databases no other test uses, and InfluxQL run directly, outside the store, to look at what it
 * holds. `influxd` is read on each call, since a file starts its server in beforeAll.
 */
export function influxTools(influxd: () => InfluxdHandle) {
  let databases = 0;
  const names = new WeakMap<InfluxStatsStore, string>();

  const nextDatabase = () => `muster_test_${++databases}`;

  /** A store on a database no other test uses. */
  const openStore = async (database = nextDatabase()): Promise<InfluxStatsStore> => {
    const store = await InfluxStatsStore.open({
      url: influxd().url,
      database,
      retentionMs: 30 * DAY,
    });
    names.set(store, database);
    return store;
  };

  const databaseOf = (store: InfluxStatsStore): string => {
    const name = names.get(store);
    if (name === undefined) throw new Error("not a store opened by openStore");
    return name;
  };

  const influxql = async (q: string, db?: string): Promise<QueryAnswer> => {
    const form = new URLSearchParams({ q, epoch: "ms" });
    if (db !== undefined) form.set("db", db);
    const response = await fetch(`${influxd().url}/query`, { method: "POST", body: form });
    return (await response.json()) as QueryAnswer;
  };

  /** The rows of the first series of the first statement. */
  const rows = async (q: string, db?: string): Promise<unknown[][]> =>
    (await influxql(q, db)).results[0]?.series?.[0]?.values ?? [];

  const dropStore = async (store: InfluxStatsStore): Promise<void> => {
    await store.close();
    await influxql(`DROP DATABASE ${quoteIdent(databaseOf(store))}`);
  };

  return { nextDatabase, openStore, databaseOf, influxql, rows, dropStore };
}
