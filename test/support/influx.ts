import pino from "pino";
import {
  type InfluxStatsOptions,
  InfluxStatsStore,
  type QueryLanguage,
} from "../../src/stats/influx/influx-stats-store.js";
import type { InfluxdHandle } from "../harness/influxd.js";

const DAY = 86_400_000;

interface QueryAnswer {
  results: {
    series?: { columns: string[]; values: unknown[][]; tags?: Record<string, string> }[];
    error?: string;
  }[];
  error?: string;
}

/**
 * What the InfluxDB test files do with their influxd besides running muster on it: stores on
 * buckets no other test uses (each bucket is also the v1 database of its name), InfluxQL run
 * directly through the v1 /query to look at what a bucket holds, and /api/v2 calls. `influxd` is
 * read on each call, since a file starts its server in beforeAll.
 */
export function influxTools(influxd: () => InfluxdHandle) {
  let buckets = 0;
  const names = new WeakMap<InfluxStatsStore, string>();

  const nextBucket = () => `muster_test_${++buckets}`;

  /** What a store on this influxd is opened with, for the bucket and language given. */
  const optionsFor = (bucket: string, query: QueryLanguage): InfluxStatsOptions => ({
    url: influxd().url,
    token: influxd().token,
    org: influxd().org,
    bucket,
    query,
    retentionMs: 30 * DAY,
    // The client's log lines (each failed write attempt) are outcomes the tests assert.
    log: pino({ level: "silent" }),
  });

  /** A store on a bucket no other test uses (created by the store's startup check). */
  const openStore = async (
    query: QueryLanguage = "flux",
    bucket = nextBucket(),
    options: Partial<InfluxStatsOptions> = {},
  ): Promise<InfluxStatsStore> => {
    const store = await InfluxStatsStore.open({ ...optionsFor(bucket, query), ...options });
    names.set(store, bucket);
    return store;
  };

  const bucketOf = (store: InfluxStatsStore): string => {
    const name = names.get(store);
    if (name === undefined) throw new Error("not a store opened by openStore");
    return name;
  };

  /** An /api/v2 call with the operator token; the answer's JSON (or undefined when empty). */
  const api = async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${influxd().url}/api/v2/${path}`, {
      method,
      headers: { authorization: `Token ${influxd().token}`, "content-type": "application/json" },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (response.status >= 300) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text === "" ? undefined : JSON.parse(text);
  };

  const bucketId = async (name: string): Promise<string | undefined> => {
    const query = new URLSearchParams({ org: influxd().org, name });
    const answer = (await api("GET", `buckets?${query}`).catch(() => ({ buckets: [] }))) as {
      buckets?: { id: string }[];
    };
    return answer.buckets?.[0]?.id;
  };

  const dropBucket = async (name: string): Promise<void> => {
    const id = await bucketId(name);
    if (id !== undefined) await api("DELETE", `buckets/${id}`);
  };

  /** InfluxQL through the v1 /query, the bucket named as its database. */
  const influxql = async (q: string, db: string): Promise<QueryAnswer> => {
    const form = new URLSearchParams({ q, epoch: "ms", db });
    const response = await fetch(`${influxd().url}/query`, {
      method: "POST",
      headers: { authorization: `Token ${influxd().token}` },
      body: form,
    });
    return (await response.json()) as QueryAnswer;
  };

  /** The rows of the first series of the first statement. */
  const rows = async (q: string, db: string): Promise<unknown[][]> =>
    (await influxql(q, db)).results[0]?.series?.[0]?.values ?? [];

  const dropStore = async (store: InfluxStatsStore): Promise<void> => {
    await store.close();
    await dropBucket(bucketOf(store));
  };

  return {
    nextBucket,
    optionsFor,
    openStore,
    bucketOf,
    bucketId,
    api,
    dropBucket,
    influxql,
    rows,
    dropStore,
  };
}
