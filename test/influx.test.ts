import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { bucketRange } from "../src/core/buckets.js";
import { categoryOf, METRIC_KEYS, type Sample } from "../src/core/machine-stats.js";
import type { MetricRequest, Report, StatsStore } from "../src/core/stats-store.js";
import { Aggregation } from "../src/gen/muster/workers/v1/types_pb.js";
import { MemoryPresenceStore } from "../src/presence/memory/memory-presence-store.js";
import { openNatsPresenceStore } from "../src/presence/nats/nats-presence-store.js";
import { startMuster } from "../src/start.js";
import { InfluxStatsStore } from "../src/stats/influx/influx-stats-store.js";
import { quoteIdent } from "../src/stats/influx/influxql.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { serviceContract } from "./contract/service.contract.js";
import { type InfluxdHandle, startInfluxd } from "./harness/influxd.js";
import { type NatsServerHandle, startNatsServer } from "./harness/nats-server.js";
import { freePort } from "./harness/server-process.js";
import { ManualClock } from "./support/clock.js";
import { influxTools } from "./support/influx.js";
import { activityOf, collect, sortedRows, statsOf } from "./support/rows.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let influxd: InfluxdHandle;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
});

const { openStore, databaseOf, influxql, rows, dropStore } = influxTools(() => influxd);
/** A port nothing listens on. */
const closedPort = freePort;

// The production configuration: both real stores.
let nats: NatsServerHandle;
let buckets = 0;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});

serviceContract("NATS presence + InfluxDB stats", async (clock) => {
  const presence = await openNatsPresenceStore({
    url: nats.url,
    bucket: `influx_contract_${++buckets}`,
    clock,
  });
  const stats = await openStore();
  return {
    presence,
    stats,
    async close() {
      await presence.close();
      await dropStore(stats);
    },
  };
});

serviceContract("memory presence + InfluxDB stats", async (clock) => {
  const presence = new MemoryPresenceStore(clock);
  const stats = await openStore();
  return {
    presence,
    stats,
    async close() {
      await presence.close();
      await dropStore(stats);
    },
  };
});

describe("InfluxDB stats store", () => {
  it("creates its database and retention policy, keeps the default policy, and adjusts the duration", async () => {
    // InfluxDB refuses `/` and `\` in database names; quotes, spaces and unicode it takes.
    const name = 'we"ird db name ✓';
    const store = await InfluxStatsStore.open({
      url: influxd.url,
      database: name,
      retentionMs: 30 * DAY,
    });
    await store.close();
    const dbs = (await rows("SHOW DATABASES")).map((r) => r[0]);
    expect(dbs).toContain(name);
    const policies = async () =>
      Object.fromEntries(
        (await rows(`SHOW RETENTION POLICIES ON ${quoteIdent(name)}`)).map((r) => [
          r[0],
          { duration: r[1], shards: r[2], isDefault: r[4] },
        ]),
      );
    expect(await policies()).toEqual({
      autogen: { duration: "0s", shards: "168h0m0s", isDefault: true },
      muster: { duration: "720h0m0s", shards: "24h0m0s", isDefault: false },
    });
    // Opening again changes nothing; a new retention is applied.
    await (
      await InfluxStatsStore.open({ url: influxd.url, database: name, retentionMs: 30 * DAY })
    ).close();
    await (
      await InfluxStatsStore.open({ url: influxd.url, database: name, retentionMs: 36 * HOUR })
    ).close();
    expect((await policies()).muster).toEqual({
      duration: "36h0m0s",
      shards: "1h0m0s",
      isDefault: false,
    });
    await influxql(`DROP DATABASE ${quoteIdent(name)}`);
  });

  it("answers exactly as the memory store does, over many intervals, ranges and filters", async () => {
    const store = await openStore();
    const t0 = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    const memory = new MemoryStatsStore(new ManualClock(t0 + 3 * HOUR));
    const random = mulberry32(42);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const workers = ["w-1", "w-2", "w-10", 'q"uote\\', "sp ace,comma=eq", "ünï 🚀"];
    const value = () => Math.floor(random() * 100) + pick([0, 0.25, 0.5]);
    const reportAt = (worker: string, timeMs: number): Report => {
      const samples: Sample[] = [];
      const add = (metric: string, variant: string) =>
        samples.push({ category: categoryOf(metric), metric, variant, value: value() });
      for (let i = 0; i < 1 + Math.floor(random() * 2); i++) add("cpu_usage", String(i));
      for (let i = 0; i < Math.floor(random() * 12); i++) add("gpu_usage", String(i));
      if (random() < 0.7) add("memory_used", "total");
      if (random() < 0.3) add("disk_free_home", "total");
      return {
        company: "default",
        worker,
        task: random() < 0.5 ? "t" : undefined,
        timeMs,
        samples,
      };
    };
    // Times spread over two hours, a third of them on or next to a minute's edge.
    const originals = new Map<string, Report>();
    for (let i = 0; i < 400; i++) {
      const worker = pick(workers);
      const edge = t0 + Math.floor(random() * 120) * 60_000 + pick([-1, 0, 1]);
      const timeMs = random() < 0.33 ? edge : t0 + Math.floor(random() * 2 * HOUR);
      originals.set(`${worker}@${timeMs}`, reportAt(worker, timeMs));
    }
    // Some retried with other values (the same task, as a retry sends): the retry replaces.
    const retries = [...originals.values()]
      .filter(() => random() < 0.1)
      .map((r) => ({ ...reportAt(r.worker, r.timeMs), task: r.task }));
    for (const batch of [[...originals.values()], retries]) {
      await Promise.all(batch.map((r) => store.record(r)));
      for (const r of batch) await memory.record(r);
    }

    const allAggregations = [Aggregation.AVG, Aggregation.MIN, Aggregation.MAX];
    const metricSets: MetricRequest[][] = [
      [{ metric: "cpu_usage", aggregations: allAggregations }],
      [
        { metric: "memory_used", aggregations: [Aggregation.MAX] },
        { metric: "gpu_usage", aggregations: [Aggregation.MIN, Aggregation.AVG] },
        { metric: "network_rx", aggregations: [Aggregation.AVG] },
        { metric: "disk_free_home", aggregations: [Aggregation.AVG] },
      ],
    ];
    const workerSets = [[], ["w-1"], ["w-2", 'q"uote\\', "nobody", ""], [""]];
    const ranges: [number, number, number][] = [
      [t0 - HOUR, t0 + 3 * HOUR, 60],
      [t0 - HOUR, t0 + 3 * HOUR, 3600],
      [t0 - HOUR, t0 + 3 * HOUR, 86_400],
      [t0 + 61_234, t0 + 3_601_999, 7],
      [t0 + 59_999, t0 + 60_000, 1],
      [t0 + 1_000, t0 + 1_000_000, 300],
      [t0 + 10_000.5, t0 + 4_000_000.25, 60],
      // Whole-hour intervals: whole hours from the hourly rollup, partial ones from the reports.
      [t0 + 61_234, t0 + 3 * HOUR - 17, 3600],
      [t0 - 1234.5, t0 + 2 * HOUR + 5, 7200],
      [t0 + 5, t0 + 30 * 60_000, 3600],
      [t0 + 1000, t0 + 2 * HOUR + 1000, 86_400],
      [t0 + HOUR - 1, t0 + HOUR, 3600],
      [t0 + 30 * 60_000, t0 + 150 * 60_000, 3 * 3600],
    ];
    let compared = 0;
    for (const [fromMs, toMs, interval] of ranges) {
      const range = bucketRange(fromMs / 1000, toMs / 1000, interval, 1_000_000);
      const activityQuery = { company: "default", range };
      const activityRows = (st: StatsStore) =>
        collect(st.activity(activityQuery)).then((r) => r.sort((a, b) => a.bucketMs - b.bucketMs));
      expect(await activityRows(store)).toEqual(await activityRows(memory));
      for (const metrics of metricSets) {
        for (const workerIds of workerSets) {
          for (const splitByVariant of [false, true]) {
            const query = {
              company: "default",
              workers: workerIds,
              range,
              metrics,
              splitByVariant,
            };
            const expected = sortedRows(await collect(memory.stats(query)));
            expect(
              sortedRows(await collect(store.stats(query))),
              JSON.stringify({ fromMs, toMs, interval }),
            ).toEqual(expected);
            if (expected.length > 0) compared++;
          }
        }
      }
    }
    expect(compared).toBeGreaterThan(40);
    for (const workerIds of workerSets) {
      expect(await store.metricKeys("default", workerIds)).toEqual(
        await memory.metricKeys("default", workerIds),
      );
    }
    await dropStore(store);
  });

  it("keeps samples on both sides of a bucket edge apart, for every interval", async () => {
    const store = await openStore();
    const t0 = Math.floor(Date.now() / DAY) * DAY - DAY;
    for (const [dt, value] of [
      [-1, 1],
      [0, 2],
      [3_599_999, 3],
      [3_600_000, 4],
    ] as const) {
      await store.record({
        company: "default",
        worker: "n",
        task: undefined,
        timeMs: t0 + dt,
        samples: [{ category: "memory", metric: "memory_used", variant: "total", value }],
      });
    }
    const get = async (interval: number) => {
      const [w] = await statsOf(store, {
        company: "default",
        workers: [],
        range: bucketRange((t0 - 1000) / 1000, (t0 + 2 * HOUR) / 1000, interval, 1_000_000),
        metrics: [{ metric: "memory_used", aggregations: [Aggregation.MAX] }],
        splitByVariant: false,
      });
      const m = w?.metrics[0];
      return [m?.dates.map((d) => Number(d) - t0), m?.stats[0]?.values];
    };
    expect(await get(1)).toEqual([
      [-1000, 0, 3_599_000, 3_600_000],
      [1, 2, 3, 4],
    ]);
    expect(await get(3600)).toEqual([
      [-3_600_000, 0, 3_600_000],
      [1, 3, 4],
    ]);
    expect(await get(86_400)).toEqual([
      [-86_400_000, 0],
      [1, 4],
    ]);
    await dropStore(store);
  });

  it("stores hostile worker ids exactly, as tags of their own, and reads each back alone", async () => {
    const store = await openStore();
    const hostile = [
      "a\\",
      "b\\\\,c",
      "x\ny",
      "cr\r\nlf",
      "tab\there",
      "a,b=c d",
      "'; DROP DATABASE x; --",
      '" OR 1=1 --',
      "/.*/",
      "^$|()[]{}+?*.\\d",
      "%41",
      "%",
      "A",
      "ünïcødé-工作者 🚀",
      "nul\u0000byte",
      "x".repeat(256),
    ];
    const t = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    await Promise.all(
      hostile.map((worker, i) =>
        store.record({
          company: "default",
          worker,
          task: i % 2 === 0 ? "task" : undefined,
          timeMs: t,
          samples: [
            { category: "memory", metric: "memory_used", variant: "total", value: i },
            { category: "cpu", metric: METRIC_KEYS[i % 2] as string, variant: "0", value: i },
          ],
        }),
      ),
    );
    const range = bucketRange(t / 1000, t / 1000 + 60, 60, 100);
    const metrics = [{ metric: "memory_used", aggregations: [Aggregation.AVG] }];
    const all = await statsOf(store, {
      company: "default",
      workers: [],
      range,
      metrics,
      splitByVariant: false,
    });
    expect(all.map((w) => w.worker)).toEqual([...hostile].sort());
    for (const [i, worker] of hostile.entries()) {
      const one = await statsOf(store, {
        company: "default",
        workers: [worker],
        range,
        metrics,
        splitByVariant: true,
      });
      expect(
        one.map((w) => [w.worker, w.metrics[0]?.variant, w.metrics[0]?.stats[0]?.values]),
      ).toEqual([[worker, "total", [i]]]);
      const keys = await store.metricKeys("default", [worker]);
      expect(keys.find((c) => c.name === "cpu")?.metricKeys).toEqual([METRIC_KEYS[i % 2]]);
    }
    const activity = await activityOf(store, { company: "default", range });
    expect(activity.total[0]).toBe(hostile.length);
    expect(activity.active[0]).toBe(hostile.length / 2);
    // No id made a tag of its own or split a series: the tag keys are the schema's, and there is
    // one activity series per worker.
    const tagKeys = async (m: string) =>
      (await rows(`SHOW TAG KEYS FROM "muster".${quoteIdent(m)}`, databaseOf(store))).map(
        (r) => r[0],
      );
    expect(await tagKeys("machine_stats")).toEqual([
      "category",
      "company",
      "metric",
      "variant",
      "worker",
    ]);
    expect(await tagKeys("activity")).toEqual(["company", "worker"]);
    const series = await rows(`SHOW SERIES FROM "muster"."activity"`, databaseOf(store));
    expect(series).toHaveLength(hostile.length);
    await dropStore(store);
  });

  it("never lets one company read another's series, whatever the names", async () => {
    const store = await openStore();
    const companies = [
      "default",
      "acme",
      "default' OR 'a'='a",
      'default" OR "company" =~ /.*/ --',
      "default\\",
      ".*",
      "DEFAULT",
      "default ",
      "%64efault",
    ];
    const t = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    await Promise.all(
      companies.flatMap((company, i) =>
        ["w", `w-${i}`].map((worker) =>
          store.record({
            company,
            worker,
            task: undefined,
            timeMs: t,
            samples: [
              {
                category: categoryOf(METRIC_KEYS[i] as string),
                metric: METRIC_KEYS[i] as string,
                variant: "total",
                value: i,
              },
            ],
          }),
        ),
      ),
    );
    const range = bucketRange(t / 1000, t / 1000 + 60, 60, 100);
    for (const [i, company] of companies.entries()) {
      const metric = METRIC_KEYS[i] as string;
      const everyMetric = METRIC_KEYS.map((m) => ({ metric: m, aggregations: [Aggregation.MAX] }));
      for (const workers of [[], ["w"]]) {
        const stats = await statsOf(store, {
          company,
          workers,
          range,
          metrics: everyMetric,
          splitByVariant: false,
        });
        expect(stats.map((w) => w.worker)).toEqual(workers.length === 0 ? ["w", `w-${i}`] : ["w"]);
        for (const w of stats) {
          expect(w.metrics.map((m) => [m.metric, m.stats[0]?.values])).toEqual([[metric, [i]]]);
        }
        expect(await store.metricKeys(company, workers)).toEqual([
          { name: categoryOf(metric), metricKeys: [metric] },
        ]);
      }
      expect((await activityOf(store, { company, range })).total).toEqual([2, 0]);
    }
    for (const company of ["nobody", "default'", "d%", "acme "]) {
      expect((await activityOf(store, { company, range })).total).toEqual([0, 0]);
      expect(await store.metricKeys(company, [])).toEqual([]);
    }
    await dropStore(store);
  });

  it("acknowledges concurrent reports with few writes and loses none", async () => {
    const store = await openStore();
    const writes = async () => {
      const vars = (await (await fetch(`${influxd.url}/debug/vars`)).json()) as Record<
        string,
        { name?: string; values?: Record<string, number> }
      >;
      return Object.values(vars).find((v) => v.name === "httpd")?.values?.writeReq ?? Number.NaN;
    };
    const t = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    const before = await writes();
    const reports = Array.from({ length: 500 }, (_, i) =>
      store.record({
        company: "default",
        worker: `w-${i % 50}`,
        task: undefined,
        timeMs: t + Math.floor(i / 50) * 1000,
        samples: Array.from({ length: 4 }, (_, g) => ({
          category: "gpu",
          metric: "gpu_usage",
          variant: String(g),
          value: i,
        })),
      }),
    );
    await Promise.all(reports);
    const used = (await writes()) - before;
    expect(used).toBeGreaterThanOrEqual(1);
    // 2,500 points with 5,000 per write: one write, perhaps two when a window closes mid-way.
    expect(used).toBeLessThanOrEqual(3);
    expect(
      await rows(`SELECT count("value") FROM "muster"."machine_stats"`, databaseOf(store)),
    ).toEqual([[0, 2000]]);
    expect(
      await rows(`SELECT count("active") FROM "muster"."activity"`, databaseOf(store)),
    ).toEqual([[0, 500]]);
    await dropStore(store);
  });

  it("fails to open with a clear message when InfluxDB is unreachable", async () => {
    const port = await closedPort();
    const opened = InfluxStatsStore.open({
      url: `http://127.0.0.1:${port}`,
      database: "x",
      retentionMs: DAY,
    });
    await expect(opened).rejects.toThrow(
      `stats store unreachable: InfluxDB ping at http://127.0.0.1:${port}/ failed: connect ECONNREFUSED`,
    );
  });

  it("starts muster with --stats influx, and refuses to start when InfluxDB is unreachable", async () => {
    const log = pino({ level: "silent" });
    const base = ["--listen", "127.0.0.1:0", "--stats", "influx", "--influx-db", "muster_startup"];
    const config = loadConfig(
      [...base, "--influx-url", influxd.url, "--influx-retention", "2d"],
      {},
    );
    if (config === "help") throw new Error("unexpected help");
    const muster = await startMuster(config, log);
    await muster.close();
    expect(
      (await rows(`SHOW RETENTION POLICIES ON "muster_startup"`)).find(
        (r) => r[0] === "muster",
      )?.[1],
    ).toBe("48h0m0s");
    await influxql(`DROP DATABASE "muster_startup"`);

    const port = await closedPort();
    const down = loadConfig([...base, "--influx-url", `http://127.0.0.1:${port}`], {});
    if (down === "help") throw new Error("unexpected help");
    await expect(startMuster(down, log)).rejects.toThrow(
      /^--stats influx: stats store unreachable: InfluxDB ping at .* failed: connect ECONNREFUSED/,
    );
    expect(() => loadConfig(["--influx-retention", "30m"], {})).toThrow("--influx-retention");
    expect(loadConfig([], { INFLUX_RETENTION: "7d" })).toMatchObject({
      influxRetentionMs: 7 * DAY,
    });
    expect(loadConfig([], {})).toMatchObject({ influxRetentionMs: 30 * DAY });
  });
});

/** A small seeded PRNG, so the differential test is the same on every run. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}
