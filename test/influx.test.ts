import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { bucketRange } from "../src/core/buckets.js";
import { categoryOf, METRIC_KEYS, type Sample } from "../src/core/machine-stats.js";
import type { MetricRequest, Report, StatsRow, StatsStore } from "../src/core/stats-store.js";
import { Aggregation } from "../src/gen/muster/workers/v1/types_pb.js";
import { MemoryPresenceStore } from "../src/presence/memory/memory-presence-store.js";
import { openNatsPresenceStore } from "../src/presence/nats/nats-presence-store.js";
import { startMuster } from "../src/start.js";
import { LEGACY_STATS_MEASUREMENT } from "../src/stats/influx/influx-schema.js";
import type { QueryLanguage } from "../src/stats/influx/influx-stats-store.js";
import { floatValue, point } from "../src/stats/influx/line-protocol.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { serviceContract } from "./contract/service.contract.js";
import { type InfluxdHandle, startInfluxd } from "./harness/influxd.js";
import { type NatsServerHandle, startNatsServer } from "./harness/nats-server.js";
import { freePort } from "./harness/server-process.js";
import { ManualClock } from "./support/clock.js";
import { startFluxLessInflux } from "./support/flux-less-influx.js";
import { influxTools } from "./support/influx.js";
import { activityOf, collect, sortedRows, statsOf } from "./support/rows.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const LANGUAGES: readonly QueryLanguage[] = ["flux", "influxql"];

let influxd: InfluxdHandle;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
});

const { nextBucket, openStore, bucketOf, bucketId, api, dropBucket, rows, dropStore } = influxTools(
  () => influxd,
);
/** A port nothing listens on. */
const closedPort = freePort;

// The production configuration: both real stores, Flux.
let nats: NatsServerHandle;
let natsBuckets = 0;
beforeAll(async () => {
  nats = await startNatsServer();
});
afterAll(async () => {
  await nats?.close();
});

serviceContract("NATS presence + InfluxDB stats (Flux)", async (clock) => {
  const presence = await openNatsPresenceStore({
    url: nats.url,
    bucket: `influx_contract_${++natsBuckets}`,
    clock,
  });
  const stats = await openStore("flux");
  return {
    presence,
    stats,
    async close() {
      await presence.close();
      await dropStore(stats);
    },
  };
});

serviceContract("memory presence + InfluxDB stats (InfluxQL)", async (clock) => {
  const presence = new MemoryPresenceStore(clock);
  const stats = await openStore("influxql");
  return {
    presence,
    stats,
    async close() {
      await presence.close();
      await dropStore(stats);
    },
  };
});

describe.each(LANGUAGES)("InfluxDB stats store queried in %s", (language) => {
  it("answers exactly as the memory store does, over many intervals, ranges and filters", async () => {
    const store = await openStore(language);
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
            const expected = exactish(sortedRows(await collect(memory.stats(query))));
            expect(
              exactish(sortedRows(await collect(store.stats(query)))),
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

  it("answers nothing, and no error, for metrics no worker reported", async () => {
    const store = await openStore(language);
    const t0 = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    await store.record({
      company: "default",
      worker: "w",
      task: undefined,
      timeMs: t0,
      samples: [{ category: "cpu", metric: "cpu_usage", variant: "0", value: 5 }],
    });
    const range = bucketRange((t0 - 1000) / 1000, (t0 + HOUR) / 1000, 60, 1_000_000);
    const ask = (metrics: MetricRequest[], splitByVariant: boolean) =>
      collect(store.stats({ company: "default", workers: [], range, metrics, splitByVariant }));
    for (const splitByVariant of [false, true]) {
      const unreported = [
        { metric: "network_rx", aggregations: [Aggregation.AVG, Aggregation.MAX] },
        { metric: "gpu_usage", aggregations: [Aggregation.MIN] },
      ];
      expect(await ask(unreported, splitByVariant)).toEqual([]);
    }
    // The same query with a reported metric beside them answers that one only.
    const rows = await ask(
      [
        { metric: "network_rx", aggregations: [Aggregation.AVG] },
        { metric: "cpu_usage", aggregations: [Aggregation.AVG] },
      ],
      false,
    );
    expect(rows.map((r) => [r.metric, r.value])).toEqual([["cpu_usage", 5]]);
    await dropStore(store);
  });

  it("keeps samples on both sides of a bucket edge apart, for every interval", async () => {
    const store = await openStore(language);
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
});

describe.each(LANGUAGES)(
  "InfluxDB stats written before worker_stats, queried in %s",
  (language) => {
    /** A report as muster wrote it before worker_stats: a machine_stats point per sample. */
    const legacyLines = (r: Report) =>
      r.samples.map((s) =>
        point(
          LEGACY_STATS_MEASUREMENT,
          [
            ["category", s.category],
            ["company", r.company],
            ["metric", s.metric],
            ["variant", s.variant],
            ["worker", r.worker],
          ],
          [["value", floatValue(s.value)]],
          r.timeMs,
        ),
      );

    it("reads the legacy layout beside the new one, merged exactly, metric keys included", async () => {
      const store = await openStore(language);
      const t0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
      const memory = new MemoryStatsStore(new ManualClock(t0 + 2 * HOUR));
      const random = mulberry32(7);
      const reports: Report[] = [];
      // "old-only" reported before the upgrade only, "new-only" after it; the others both, often
      // within one minute, as an instance upgraded mid-window would.
      for (const [worker, from, to] of [
        ["old-only", 0, 50],
        ["new-only", 50, 100],
        ["both", 0, 100],
        ['q"uote\\ ,=', 0, 100],
      ] as const) {
        for (let i = from; i < to; i++) {
          const samples: Sample[] = [];
          const gpus = worker === "old-only" ? 2 : 4;
          for (let g = 0; g < gpus; g++) {
            samples.push({
              category: "gpu",
              metric: "gpu_usage",
              variant: String(g),
              value: Math.floor(random() * 100),
            });
          }
          if (worker !== "new-only") {
            samples.push({
              category: "disk",
              metric: "disk_free_home",
              variant: "total",
              value: random() * 50,
            });
          }
          reports.push({
            company: "default",
            worker,
            task: undefined,
            timeMs: t0 + i * 37_000,
            samples,
          });
        }
      }
      const legacy: string[] = [];
      for (const r of reports) {
        await memory.record(r);
        const old = r.worker === "old-only" || (r.worker !== "new-only" && random() < 0.5);
        if (old) {
          legacy.push(...legacyLines(r));
          await store.record({ ...r, samples: [] });
        } else {
          await store.record(r);
        }
      }
      const bucket = bucketOf(store);
      const written = await fetch(
        `${influxd.url}/api/v2/write?${new URLSearchParams({ org: influxd.org, bucket, precision: "ms" })}`,
        {
          method: "POST",
          headers: { authorization: `Token ${influxd.token}` },
          body: legacy.join("\n"),
        },
      );
      expect(written.status).toBe(204);

      const metrics = [
        { metric: "gpu_usage", aggregations: [Aggregation.AVG, Aggregation.MIN, Aggregation.MAX] },
        { metric: "disk_free_home", aggregations: [Aggregation.AVG] },
      ];
      let compared = 0;
      for (const interval of [60, 600, 3600]) {
        const range = bucketRange((t0 - 1000) / 1000, (t0 + 2 * HOUR) / 1000, interval, 1_000_000);
        for (const workers of [[], ["old-only"], ["both", "new-only"]]) {
          for (const splitByVariant of [false, true]) {
            const query = { company: "default", workers, range, metrics, splitByVariant };
            const expected = exactish(sortedRows(await collect(memory.stats(query))));
            expect(exactish(sortedRows(await collect(store.stats(query))))).toEqual(expected);
            compared += expected.length;
          }
        }
      }
      expect(compared).toBeGreaterThan(1000);
      for (const workers of [[], ["old-only"], ["new-only"]]) {
        expect(await store.metricKeys("default", workers)).toEqual(
          await memory.metricKeys("default", workers),
        );
      }
      expect(await store.metricKeys("other", [])).toEqual([]);
      await dropStore(store);
    });
  },
);

describe("InfluxDB stats store, Flux path", () => {
  it("stores hostile worker ids exactly, as tags of their own, and reads each back alone", async () => {
    const store = await openStore("flux");
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
    // one activity series and one worker_stats series per worker.
    const tagKeys = async (m: string) =>
      (await rows(`SHOW TAG KEYS FROM "${m}"`, bucketOf(store))).map((r) => r[0]);
    expect(await tagKeys("worker_stats")).toEqual(["company", "worker"]);
    expect(await tagKeys("activity")).toEqual(["company", "worker"]);
    for (const measurement of ["activity", "worker_stats"]) {
      const series = await rows(`SHOW SERIES FROM "${measurement}"`, bucketOf(store));
      expect(series).toHaveLength(hostile.length);
    }
    await dropStore(store);
  });

  it("never lets one company read another's series, whatever the names", async () => {
    const store = await openStore("flux");
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
    const store = await openStore("flux");
    const writes = async () => {
      const metrics = await (await fetch(`${influxd.url}/metrics`)).text();
      return metrics
        .split("\n")
        .filter(
          (l) => l.startsWith("http_api_requests_total{") && l.includes('path="/api/v2/write"'),
        )
        .reduce((sum, l) => sum + Number(l.slice(l.lastIndexOf(" ") + 1)), 0);
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
    // 1,500 points with 5,000 per write: one write, perhaps two when a window closes mid-way.
    expect(used).toBeLessThanOrEqual(3);
    // 500 worker_stats points, each with its four GPUs' fields.
    expect(await rows(`SELECT count(*) FROM "worker_stats"`, bucketOf(store))).toEqual([
      [0, 500, 500, 500, 500],
    ]);
    expect(await rows(`SELECT count("active") FROM "activity"`, bucketOf(store))).toEqual([
      [0, 500],
    ]);
    await dropStore(store);
  });
});

describe("bucket naming", () => {
  it("reads a database/retention-policy bucket in both languages (2.x maps db/rp to the bucket of that name)", async () => {
    const bucket = `fleet_${Date.now()}/short`;
    const writer = await openStore("flux", bucket);
    const t = Math.floor(Date.now() / HOUR) * HOUR - HOUR;
    await writer.record({
      company: "default",
      worker: "w",
      task: "t",
      timeMs: t,
      samples: [{ category: "cpu", metric: "cpu_usage", variant: "0", value: 7 }],
    });
    const range = bucketRange(t / 1000, t / 1000 + 60, 60, 100);
    const query = {
      company: "default",
      workers: [],
      range,
      metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.MAX] }],
      splitByVariant: true,
    };
    const reader = await openStore("influxql", bucket);
    for (const store of [writer, reader]) {
      expect((await collect(store.stats(query))).map((r) => [r.worker, r.value])).toEqual([
        ["w", 7],
      ]);
      expect(await collect(store.activity({ company: "default", range }))).toEqual([
        { bucketMs: t, total: 1, active: 1 },
      ]);
    }
    await reader.close();
    await dropStore(writer);
  });
});

describe("starting muster with --stats influx", () => {
  const log = pino({ level: "silent" });
  const start = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const config = loadConfig(["--listen", "127.0.0.1:0", "--stats", "influx", ...args], env);
    if (config === "help") throw new Error("unexpected help");
    return startMuster(config, log);
  };
  const on = (args: string[] = []) => [
    "--influx-url",
    influxd.url,
    "--influx-org",
    influxd.org,
    ...args,
  ];
  /** The message a failed start gives, checked to be one line. */
  const failure = async (started: Promise<unknown>): Promise<string> => {
    const error = await started.then(
      () => {
        throw new Error("muster started");
      },
      (e: unknown) => e as Error,
    );
    expect(error.message).not.toContain("\n");
    return error.message;
  };

  it.each(LANGUAGES)(
    "creates a missing bucket with --influx-retention and serves from it (%s)",
    async (query) => {
      const bucket = nextBucket();
      const muster = await start(
        on(["--influx-bucket", bucket, "--influx-query", query, "--influx-retention", "2d"]),
        { INFLUX_TOKEN: influxd.token },
      );
      await muster.close();
      const found = (await api("GET", `buckets/${await bucketId(bucket)}`)) as {
        retentionRules: { everySeconds: number }[];
      };
      expect(found.retentionRules[0]?.everySeconds).toBe(2 * 86_400);
      // An existing bucket keeps its retention.
      await (
        await start(on(["--influx-bucket", bucket, "--influx-retention", "30d"]), {
          INFLUX_TOKEN: influxd.token,
        })
      ).close();
      const again = (await api("GET", `buckets/${await bucketId(bucket)}`)) as typeof found;
      expect(again.retentionRules[0]?.everySeconds).toBe(2 * 86_400);
      await dropBucket(bucket);
    },
  );

  it("refuses a wrong token in one line naming the flag", async () => {
    for (const query of LANGUAGES) {
      expect(await failure(start(on(["--influx-token", "wrong", "--influx-query", query])))).toBe(
        `--stats influx: INFLUX_TOKEN/--influx-token is not accepted by ${influxd.url}: give a valid token`,
      );
    }
    // No token at all is refused the same way by a 2.x server.
    expect(await failure(start(on()))).toMatch(/INFLUX_TOKEN\/--influx-token is not accepted/);
  });

  it("refuses a missing bucket the token may not create, naming how to create it", async () => {
    const { token } = (await api("POST", "authorizations", {
      orgID: influxd.orgId,
      permissions: [
        { action: "read", resource: { type: "buckets", orgID: influxd.orgId } },
        { action: "read", resource: { type: "orgs", id: influxd.orgId } },
      ],
    })) as { token: string };
    const message = await failure(
      start(on(["--influx-bucket", "nobody_made_this", "--influx-token", token])),
    );
    expect(message).toMatch(
      /^--stats influx: InfluxDB at .* has no bucket "nobody_made_this" in org "muster" and the token may not create it .*: create it \(influx bucket create --name nobody_made_this --org muster --retention 30d\) or use a token with write access to buckets$/,
    );
    expect(await bucketId("nobody_made_this")).toBeUndefined();
  });

  // The one stand-in of these tests (test/support/flux-less-influx.ts): no InfluxDB without Flux
  // can be installed here, so a loopback server gives the answers such a server gives.
  it.each(["1.8.10", "v2.7.12"] as const)(
    "refuses --influx-query flux against a server without Flux (%s stand-in), naming the fix",
    async (version) => {
      const server = await startFluxLessInflux(version);
      try {
        const bucket = version.startsWith("1.") ? "muster/autogen" : "muster";
        const message = await failure(
          start(["--influx-url", server.url, "--influx-bucket", bucket, "--influx-query", "flux"]),
        );
        expect(message).toBe(
          `--stats influx: InfluxDB at ${server.url} does not run Flux (403 Forbidden : Flux query service disabled. Verify flux-enabled=true in the [http] section of the InfluxDB config.): use InfluxDB 2.x, or 1.8+ with [http] flux-enabled = true, or --influx-query influxql`,
        );
      } finally {
        await server.close();
      }
    },
  );

  it("refuses an unreachable InfluxDB, an unknown org and bad settings in one line", async () => {
    const port = await closedPort();
    expect(await failure(start(["--influx-url", `http://127.0.0.1:${port}`]))).toMatch(
      /^--stats influx: InfluxDB at http:\/\/127\.0\.0\.1:\d+ cannot be reached \(.*ECONNREFUSED.*\): check INFLUX_URL\/--influx-url and that InfluxDB runs$/,
    );
    expect(
      await failure(
        start(["--influx-url", influxd.url, "--influx-org", "nope"], {
          INFLUX_TOKEN: influxd.token,
        }),
      ),
    ).toMatch(/has no org "nope" the token can see: check INFLUX_ORG\/--influx-org$/);
    expect(() => loadConfig(["--influx-db", "x"], {})).toThrow(
      "--influx-db/INFLUX_DB is gone: use --influx-bucket/INFLUX_BUCKET",
    );
    expect(() => loadConfig([], { INFLUX_DB: "x" })).toThrow("--influx-db/INFLUX_DB is gone");
    expect(() => loadConfig(["--influx-query", "sql"], {})).toThrow(
      '--influx-query: expected one of flux, influxql, got "sql"',
    );
    expect(() => loadConfig(["--influx-bucket", "a/b/c"], {})).toThrow("--influx-bucket");
    expect(() => loadConfig([], { INFLUX_BUCKET: "db/" })).toThrow("INFLUX_BUCKET");
    expect(() => loadConfig(["--influx-retention", "30m"], {})).toThrow("--influx-retention");
    expect(
      loadConfig([], {
        INFLUX_ORG: "o",
        INFLUX_BUCKET: "db/rp",
        INFLUX_TOKEN: "u:p",
        MUSTER_INFLUX_QUERY: "influxql",
        INFLUX_RETENTION: "7d",
      }),
    ).toMatchObject({
      influxOrg: "o",
      influxBucket: "db/rp",
      influxToken: "u:p",
      influxQuery: "influxql",
      influxRetentionMs: 7 * DAY,
    });
    expect(loadConfig([], {})).toMatchObject({
      influxOrg: "muster",
      influxBucket: "muster",
      influxToken: "",
      influxQuery: "flux",
      influxRetentionMs: 30 * DAY,
    });
  });
});
/**
 * Rows with values to 12 significant digits: a mean of the same samples summed in another order
 * (Flux's grouped mean over the variants) may differ in the last bit.
 */
function exactish(rows: readonly StatsRow[]): StatsRow[] {
  return rows.map((r) => ({ ...r, value: Number(r.value.toPrecision(12)) }));
}

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
