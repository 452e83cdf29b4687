import { Code } from "@connectrpc/connect";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.js";
import { bucketRange } from "../src/core/buckets.js";
import { ApiError } from "../src/core/errors.js";
import type { CallContext } from "../src/core/identity.js";
import { categoryOf, METRIC_KEYS, type Sample } from "../src/core/machine-stats.js";
import type { MetricRequest, Report } from "../src/core/stats-store.js";
import { Aggregation } from "../src/gen/muster/workers/v1/types_pb.js";
import { startMuster } from "../src/muster.js";
import { MemoryPresenceStore } from "../src/presence/memory/memory-presence-store.js";
import { openNatsPresenceStore } from "../src/presence/nats/nats-presence-store.js";
import { GroupCommit } from "../src/stats/influx/group-commit.js";
import { InfluxStatsStore } from "../src/stats/influx/influx-stats-store.js";
import {
  durationLiteral,
  equalsAny,
  Params,
  parseGoDuration,
  quoteIdent,
} from "../src/stats/influx/influxql.js";
import {
  decodeTagValue,
  encodeTagValue,
  point,
  tagValue,
} from "../src/stats/influx/line-protocol.js";
import { MemoryStatsStore } from "../src/stats/memory/memory-stats-store.js";
import { WorkersService } from "../src/workers/service.js";
import { serviceContract } from "./contract/service.contract.js";
import { type InfluxdHandle, startInfluxd } from "./harness/influxd.js";
import { type NatsServerHandle, startNatsServer } from "./harness/nats-server.js";
import { ManualClock } from "./support/clock.js";
import { client } from "./support/service.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let influxd: InfluxdHandle;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
});

let databases = 0;
/** A store on a database no other test uses. */
async function openStore(database = `muster_test_${++databases}`): Promise<InfluxStatsStore> {
  return InfluxStatsStore.open({ url: influxd.url, database, retentionMs: 30 * DAY });
}

interface QueryAnswer {
  results: {
    series?: { columns: string[]; values: unknown[][]; tags?: Record<string, string> }[];
  }[];
  error?: string;
}

/** Runs InfluxQL directly against influxd, outside the store, to look at what it holds. */
async function influxql(q: string, db?: string): Promise<QueryAnswer> {
  const form = new URLSearchParams({ q, epoch: "ms" });
  if (db !== undefined) form.set("db", db);
  const response = await fetch(`${influxd.url}/query`, { method: "POST", body: form });
  return (await response.json()) as QueryAnswer;
}

/** The rows of the first series of the first statement. */
async function rows(q: string, db?: string): Promise<unknown[][]> {
  return (await influxql(q, db)).results[0]?.series?.[0]?.values ?? [];
}

async function dropStore(store: InfluxStatsStore): Promise<void> {
  await store.close();
  await influxql(`DROP DATABASE ${quoteIdent(store.database)}`);
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const net = await import("node:net");
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.address() as import("node:net").AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

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

describe("line protocol", () => {
  it("encodes what a tag value cannot carry, reversibly", () => {
    for (const value of ["a\\", "x\ny", "%41", "%", "\r\t\u0000\u007f", "ünï 🚀", "plain-id.1"]) {
      expect(decodeTagValue(encodeTagValue(value))).toBe(value);
    }
    expect(encodeTagValue("plain-id.1:gpu/0")).toBe("plain-id.1:gpu/0");
    expect(encodeTagValue("a\\b%c\nd")).toBe("a%5Cb%25c%0Ad");
    expect(() => encodeTagValue("")).toThrow("empty");
  });

  it("escapes commas, spaces and equals signs in tag values", () => {
    expect(tagValue('a,b=c d"e')).toBe('a\\,b\\=c\\ d"e');
    expect(point("m", [["k", "v 1"]], [["value", "1.5"]], 1000)).toBe("m,k=v\\ 1 value=1.5 1000");
  });
});

describe("InfluxQL building", () => {
  it("quotes identifiers and refuses what cannot be quoted", () => {
    expect(quoteIdent('we"ird\\name\nx')).toBe('"we\\"ird\\\\name\\nx"');
    expect(() => quoteIdent("a\rb")).toThrow();
  });

  it("binds values as parameters, never into the text", () => {
    const params = new Params();
    const text = equalsAny("worker", ["a' OR 'x'='x", "b"], params);
    expect(text).toBe('("worker" = $p0 OR "worker" = $p1)');
    expect(params.toJSON()).toEqual({ p0: "a' OR 'x'='x", p1: "b" });
  });

  it("writes durations in the largest exact unit and reads Go's", () => {
    expect(durationLiteral(30 * DAY)).toBe("30d");
    expect(durationLiteral(90 * 60_000)).toBe("90m");
    expect(durationLiteral(7000)).toBe("7s");
    expect(parseGoDuration("720h0m0s")).toBe(30 * DAY);
    expect(parseGoDuration("1h30m0s")).toBe(90 * 60_000);
    expect(parseGoDuration("0s")).toBe(0);
  });
});

describe("group commit", () => {
  /** A writer that records bodies and settles each write when told. */
  function gatedWriter() {
    const bodies: string[] = [];
    const gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
    const write = (body: string) =>
      new Promise<void>((resolve, reject) => {
        bodies.push(body);
        gates.push({ resolve, reject });
      });
    return { bodies, gates, write };
  }
  const tick = (ms = 20) => new Promise((resolve) => setTimeout(resolve, ms));

  it("joins concurrent entries into one write and settles each with it", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 5, maxLines: 100, maxInFlight: 2 });
    let settled = 0;
    const all = [["a"], ["b", "c"], ["d"]].map((lines) =>
      commit.submit(lines).then(() => settled++),
    );
    await tick();
    expect(w.bodies).toEqual(["a\nb\nc\nd"]);
    expect(settled).toBe(0);
    w.gates[0]?.resolve();
    await Promise.all(all);
    expect(settled).toBe(3);
  });

  it("writes at once when maxLines lines wait, without the window", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 60_000, maxLines: 3, maxInFlight: 2 });
    void commit.submit(["a", "b"]);
    void commit.submit(["c"]);
    await tick(1);
    expect(w.bodies).toEqual(["a\nb\nc"]);
    w.gates[0]?.resolve();
  });

  it("rejects every entry of a failed write, and later writes go on", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 1, maxLines: 100, maxInFlight: 2 });
    const first = [commit.submit(["a"]), commit.submit(["b"])];
    await tick();
    w.gates[0]?.reject(new Error("boom"));
    for (const p of first) await expect(p).rejects.toThrow("boom");
    const second = commit.submit(["c"]);
    await tick();
    w.gates[1]?.resolve();
    await expect(second).resolves.toBeUndefined();
    expect(w.bodies).toEqual(["a\nb", "c"]);
  });

  it("queues while every write slot is busy, then sends the queue as one batch", async () => {
    const w = gatedWriter();
    const commit = new GroupCommit(w.write, { windowMs: 1, maxLines: 100, maxInFlight: 1 });
    const a = commit.submit(["a"]);
    await tick();
    const rest = [commit.submit(["b"]), commit.submit(["c"])];
    await tick();
    expect(w.bodies).toEqual(["a"]);
    w.gates[0]?.resolve();
    await a;
    await tick();
    expect(w.bodies).toEqual(["a", "b\nc"]);
    w.gates[1]?.resolve();
    await Promise.all(rest);
  });

  it("writes what waits on close, then refuses new entries", async () => {
    const bodies: string[] = [];
    const commit = new GroupCommit(async (body) => void bodies.push(body), {
      windowMs: 60_000,
      maxLines: 100,
      maxInFlight: 1,
    });
    const pending = commit.submit(["a"]);
    await commit.close();
    await pending;
    expect(bodies).toEqual(["a"]);
    await expect(commit.submit(["b"])).rejects.toThrow("closed");
  });
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
      expect(await store.activity({ company: "default", range })).toEqual(
        await memory.activity({ company: "default", range }),
      );
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
            const expected = await memory.stats(query);
            expect(await store.stats(query), JSON.stringify({ fromMs, toMs, interval })).toEqual(
              expected,
            );
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
      const [w] = await store.stats({
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
    const all = await store.stats({
      company: "default",
      workers: [],
      range,
      metrics,
      splitByVariant: false,
    });
    expect(all.map((w) => w.worker)).toEqual([...hostile].sort());
    for (const [i, worker] of hostile.entries()) {
      const one = await store.stats({
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
    const activity = await store.activity({ company: "default", range });
    expect(activity.total[0]).toBe(hostile.length);
    expect(activity.active[0]).toBe(hostile.length / 2);
    // No id made a tag of its own or split a series: the tag keys are the schema's, and there is
    // one activity series per worker.
    const tagKeys = async (m: string) =>
      (await rows(`SHOW TAG KEYS FROM "muster".${quoteIdent(m)}`, store.database)).map((r) => r[0]);
    expect(await tagKeys("machine_stats")).toEqual([
      "category",
      "company",
      "metric",
      "variant",
      "worker",
    ]);
    expect(await tagKeys("activity")).toEqual(["company", "worker"]);
    const series = await rows(`SHOW SERIES FROM "muster"."activity"`, store.database);
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
        const stats = await store.stats({
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
      expect((await store.activity({ company, range })).total).toEqual([2, 0]);
    }
    for (const company of ["nobody", "default'", "d%", "acme "]) {
      expect((await store.activity({ company, range })).total).toEqual([0, 0]);
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
      await rows(`SELECT count("value") FROM "muster"."machine_stats"`, store.database),
    ).toEqual([[0, 2000]]);
    expect(await rows(`SELECT count("active") FROM "muster"."activity"`, store.database)).toEqual([
      [0, 500],
    ]);
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

  // Last: it stops and restarts the file's influxd.
  it("answers UNAVAILABLE while influxd is down and keeps every acknowledged sample", async () => {
    const store = await openStore();
    const t0 = Math.floor(Date.now() / HOUR) * HOUR - 2 * HOUR;
    const clock = new ManualClock(t0);
    const presence = new MemoryPresenceStore(clock);
    const ctx: CallContext = { identity: { company: "default", user: "default" } };
    const api = client(new WorkersService({ presence, stats: store, clock }), ctx);
    let acknowledged = 0;
    let reports = 0;
    const report = async (i: number) => {
      clock.set(t0 + i * 1000);
      await api.statusReport({
        worker: `w-${i % 3}`,
        timestamp: BigInt(t0 + i * 1000),
        machineStats: { cpuUsage: [i], gpuUsage: [1, 2], memoryUsed: i },
      });
      acknowledged += 4;
      reports++;
    };
    for (let i = 0; i < 10; i++) await report(i);

    await influxd.stop();
    const failures = await Promise.all(
      Array.from({ length: 5 }, (_, k) =>
        report(10 + k).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );
    for (const error of failures) {
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe(Code.Unavailable);
      expect((error as ApiError).message).toContain("stats store unreachable");
    }
    // Presence still took the report: the worker is alive, and the client's retry will replace
    // the samples at the same time.
    const { workers } = await api.getAll({ lastSeen: 0 });
    expect(workers.find((w) => w.id === "w-1")?.lastReportTime).toBeDefined();
    await expect(
      api.getStats({
        fromDate: t0 / 1000,
        toDate: t0 / 1000 + 60,
        interval: 60,
        items: [{ key: "cpu_usage" }],
      }),
    ).rejects.toMatchObject({ code: Code.Unavailable });

    await influxd.start();
    for (let i = 15; i < 25; i++) await report(i);
    expect(acknowledged).toBe(80);
    const where = `WHERE "company" = 'default'`;
    expect(
      await rows(`SELECT count("value") FROM "muster"."machine_stats" ${where}`, store.database),
    ).toEqual([[0, acknowledged]]);
    expect(
      await rows(`SELECT count("active") FROM "muster"."activity" ${where}`, store.database),
    ).toEqual([[0, reports]]);
    await dropStore(store);
  });
});

describe("InfluxDB outage over the ClearML HTTP path", () => {
  // Stops and restarts the file's influxd, like the test above: keep these last.
  it("answers 503 with the envelope while influxd is down, 200 again once it is back, and 400 for absurd timestamps", async () => {
    const args = ["--listen", "127.0.0.1:0", "--stats", "influx", "--influx-url", influxd.url];
    const config = loadConfig([...args, "--influx-db", `muster_test_${++databases}`], {});
    if (config === "help") throw new Error("unexpected help");
    const muster = await startMuster(config, pino({ level: "silent" }));
    const statusReport = async (body: object) => {
      const response = await fetch(`${muster.server.url}/v2.23/workers.status_report`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const envelope = (await response.json()) as {
        meta: { result_code: number; result_msg: string };
      };
      expect(envelope.meta.result_code).toBe(response.status);
      return envelope.meta;
    };
    const now = Date.now();
    const report = { worker: "http-1", timestamp: now, machine_stats: { cpu_usage: [12] } };
    try {
      expect((await statusReport(report)).result_code).toBe(200);
      await influxd.stop();
      const down = await statusReport({ ...report, timestamp: now + 1000 });
      expect(down.result_code).toBe(503);
      expect(down.result_msg).toContain("stats store unreachable");
      await influxd.start();
      expect((await statusReport({ ...report, timestamp: now + 1000 })).result_code).toBe(200);
      for (const timestamp of [946_684_799, now + 25 * HOUR]) {
        const refused = await statusReport({ ...report, timestamp });
        expect([refused.result_code, refused.result_msg]).toEqual([
          400,
          expect.stringContaining("timestamp"),
        ]);
      }
      expect(
        await rows(`SELECT count("value") FROM "muster"."machine_stats"`, config.influxDb),
      ).toEqual([[0, 2]]);
    } finally {
      await muster.close();
      await influxql(`DROP DATABASE ${quoteIdent(config.influxDb)}`);
    }
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
