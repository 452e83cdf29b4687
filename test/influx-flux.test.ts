// The Flux path's parts against a real influxd 2.7: startup checks (setup.ts), the group-committed
// WriteApi writer (writer.ts) and the Flux reader (flux-reader.ts), used directly, not through a
// store. Expected answers are computed here from the samples written.
import { InfluxDB, setLogger } from "@influxdata/influxdb-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BucketRange, bucketStart } from "../src/core/buckets.js";
import { ApiError } from "../src/core/errors.js";
import type { ActivityRow, Report, StatsRow } from "../src/core/stats-store.js";
import { Aggregation } from "../src/gen/muster/workers/v1/types_pb.js";
import { FluxReader } from "../src/stats/influx/flux-reader.js";
import { reportLines } from "../src/stats/influx/influx-schema.js";
import { checkFlux, ensureBucket, type InfluxTarget } from "../src/stats/influx/setup.js";
import { InfluxWriter } from "../src/stats/influx/writer.js";
import { type InfluxdHandle, startInfluxd } from "./harness/influxd.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
// Recent enough for the bucket's retention, whole hours so the tests choose their alignment.
const T0 = Math.floor((Date.now() - 2 * DAY) / DAY) * DAY;

// The client logs every failed write attempt to the console; the tests assert the outcomes.
setLogger({ error: () => undefined, warn: () => undefined });

let influxd: InfluxdHandle;
beforeAll(async () => {
  influxd = await startInfluxd();
});
afterAll(async () => {
  await influxd?.close();
});

let buckets = 0;
/** A fresh bucket (created through ensureBucket) with a writer and a reader on it. */
async function fresh(writerOptions: { maxRetries?: number; maxRetryTimeMs?: number } = {}) {
  const bucket = `flux_test_${++buckets}`;
  const target = {
    url: influxd.url,
    token: influxd.token,
    org: influxd.org,
    bucket,
    retentionMs: 30 * DAY,
  };
  await ensureBucket(target);
  const client = new InfluxDB({ url: influxd.url, token: influxd.token, timeout: 5_000 });
  const writer = new InfluxWriter(client, {
    org: influxd.org,
    bucket,
    minRetryDelayMs: 50,
    maxRetryDelayMs: 200,
    ...writerOptions,
  });
  const reader = new FluxReader(client.getQueryApi(influxd.org), bucket);
  return { bucket, target, client, writer, reader };
}

function range(fromMs: number, toMs: number, intervalMs: number): BucketRange {
  return {
    fromMs,
    toMs,
    intervalMs,
    firstBucketMs: bucketStart(fromMs, intervalMs),
    lastBucketMs: bucketStart(toMs, intervalMs),
  };
}

async function collect<T>(rows: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const row of rows) all.push(row);
  return all;
}

function report(
  worker: string,
  timeMs: number,
  values: Record<string, number[]>,
  task?: string,
  company = "acme",
): Report {
  return {
    company,
    worker,
    task,
    timeMs,
    samples: Object.entries(values).flatMap(([metric, list]) =>
      list.map((value, i) => ({
        category: metric.split("_")[0] ?? metric,
        metric,
        variant: list.length === 1 ? "total" : String(i),
        value,
      })),
    ),
  };
}

const key = (r: StatsRow) =>
  `${r.worker}|${r.metric}|${r.variant ?? "-"}|${Aggregation[r.aggregation]}|${r.bucketMs}`;

/** What get_stats must answer for these reports, computed the plain way. */
function expected(
  reports: readonly Report[],
  q: { company: string; workers: string[]; range: BucketRange; metrics: string[]; split: boolean },
): Map<string, number> {
  const groups = new Map<string, number[]>();
  for (const r of reports) {
    if (r.company !== q.company) continue;
    if (q.workers.length > 0 && !q.workers.includes(r.worker)) continue;
    if (r.timeMs < q.range.fromMs || r.timeMs > q.range.toMs) continue;
    for (const s of r.samples) {
      if (!q.metrics.includes(s.metric)) continue;
      const g = `${r.worker}|${s.metric}|${q.split ? s.variant : "-"}|${bucketStart(r.timeMs, q.range.intervalMs)}`;
      groups.set(g, [...(groups.get(g) ?? []), s.value]);
    }
  }
  const answer = new Map<string, number>();
  for (const [g, values] of groups) {
    const [worker, metric, variant, bucket] = g.split("|");
    const at = (agg: string) => `${worker}|${metric}|${variant}|${agg}|${bucket}`;
    answer.set(at("AVG"), values.reduce((a, b) => a + b, 0) / values.length);
    answer.set(at("MIN"), Math.min(...values));
    answer.set(at("MAX"), Math.max(...values));
  }
  return answer;
}

describe("startup checks", () => {
  it("accepts the onboarded bucket and runs Flux", async () => {
    const target: InfluxTarget = {
      url: influxd.url,
      token: influxd.token,
      org: influxd.org,
      bucket: influxd.bucket,
      retentionMs: DAY,
    };
    const server = await ensureBucket(target);
    expect(server).toEqual({ version: "v2.7.12", major: 2 });
    const client = new InfluxDB({ url: influxd.url, token: influxd.token });
    await expect(checkFlux(target, client.getQueryApi(influxd.org))).resolves.toBeUndefined();
  });

  it("says in one line that a wrong token is not accepted", async () => {
    const target = {
      url: influxd.url,
      token: "not-a-token",
      org: influxd.org,
      bucket: influxd.bucket,
      retentionMs: DAY,
    };
    const failure = ensureBucket(target);
    await expect(failure).rejects.toThrow(
      `INFLUX_TOKEN/--influx-token is not accepted by ${influxd.url}: give a valid token`,
    );
    const client = new InfluxDB({ url: influxd.url, token: "not-a-token" });
    await expect(checkFlux(target, client.getQueryApi(influxd.org))).rejects.toThrow(
      /^INFLUX_TOKEN\/--influx-token is not accepted/,
    );
  });

  it("creates a missing bucket with the retention asked", async () => {
    const bucket = `created_${Date.now()}`;
    await ensureBucket({
      url: influxd.url,
      token: influxd.token,
      org: influxd.org,
      bucket,
      retentionMs: 7 * DAY,
    });
    const response = await fetch(
      `${influxd.url}/api/v2/buckets?${new URLSearchParams({ org: influxd.org, name: bucket })}`,
      {
        headers: { authorization: `Token ${influxd.token}` },
      },
    );
    const { buckets: found } = (await response.json()) as {
      buckets: { retentionRules: { everySeconds: number }[] }[];
    };
    expect(found[0]?.retentionRules[0]?.everySeconds).toBe(7 * 24 * 3600);
    // A second start finds it.
    await expect(
      ensureBucket({
        url: influxd.url,
        token: influxd.token,
        org: influxd.org,
        bucket,
        retentionMs: 7 * DAY,
      }),
    ).resolves.toMatchObject({ major: 2 });
  });

  it("says in one line how to fix a missing bucket the token may not create", async () => {
    const response = await fetch(`${influxd.url}/api/v2/authorizations`, {
      method: "POST",
      headers: { authorization: `Token ${influxd.token}`, "content-type": "application/json" },
      body: JSON.stringify({
        orgID: influxd.orgId,
        permissions: [
          { action: "read", resource: { type: "buckets", orgID: influxd.orgId } },
          { action: "read", resource: { type: "orgs", id: influxd.orgId } },
        ],
      }),
    });
    const { token } = (await response.json()) as { token: string };
    const failure = ensureBucket({
      url: influxd.url,
      token,
      org: influxd.org,
      bucket: "nobody_made_this",
      retentionMs: DAY,
    });
    await expect(failure).rejects.toThrow(
      /has no bucket "nobody_made_this" in org "muster" and the token may not create it .*: create it \(influx bucket create --name nobody_made_this --org muster --retention 1d\)/,
    );
    await expect(failure).rejects.not.toThrow(/\n/);
  });

  it("says in one line when the org is unknown or the server is not there", async () => {
    await expect(
      ensureBucket({
        url: influxd.url,
        token: influxd.token,
        org: "no-such-org",
        bucket: "x",
        retentionMs: DAY,
      }),
    ).rejects.toThrow(/no org "no-such-org" the token can see: check INFLUX_ORG\/--influx-org/);
    await expect(
      ensureBucket({
        url: "http://127.0.0.1:1",
        token: "t",
        org: "o",
        bucket: "b",
        retentionMs: DAY,
      }),
    ).rejects.toThrow(/cannot be reached .*: check INFLUX_URL\/--influx-url/);
  });
});

describe("Flux get_stats over the WriteApi writer", () => {
  it("answers mean, min and max per epoch-aligned bucket, split and not, inclusive of both ends", async () => {
    const { writer, reader } = await fresh();
    const reports: Report[] = [];
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Flux interpolation attempt, on purpose
    const hostile = 'w"b\\ ${x}\n,=%';
    for (const worker of ["w-a", hostile]) {
      for (let i = 0; i <= 20; i++) {
        const t = T0 + i * 20_000 + 7; // every 20 s, not aligned
        reports.push(report(worker, t, { cpu_usage: [i], gpu_usage: [i, 100 - i, i * 3] }, "task"));
      }
    }
    reports.push(report("w-a", T0 + 65_000, { cpu_usage: [999] }, undefined, "other-company"));
    // Acknowledged means written: every record resolves, then the reader sees all of it.
    await Promise.all(reports.map((r) => writer.submit(reportLines(r))));

    // From the middle of a bucket to exactly a sample's time: both ends count.
    const q = {
      company: "acme",
      workers: ["w-a", hostile, "nobody"],
      range: range(T0 + 30_007, T0 + 300_007, 60_000),
      metrics: [
        { metric: "cpu_usage", aggregations: [Aggregation.AVG, Aggregation.MIN, Aggregation.MAX] },
        { metric: "gpu_usage", aggregations: [Aggregation.AVG, Aggregation.MIN, Aggregation.MAX] },
      ],
    };
    for (const split of [true, false]) {
      const rows = await collect(reader.stats({ ...q, splitByVariant: split }));
      const got = new Map(rows.map((r) => [key(r), r.value]));
      const want = expected(reports, {
        ...q,
        workers: q.workers,
        metrics: ["cpu_usage", "gpu_usage"],
        split,
      });
      expect(got.size).toBe(rows.length); // one row per key
      expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
      for (const [k, v] of want) expect(got.get(k)).toBeCloseTo(v, 9);
      expect(rows.some((r) => r.worker === hostile)).toBe(true);
      expect(rows.every((r) => r.bucketMs % 60_000 === 0)).toBe(true);
    }
    // Every worker of the company when none is named; another company's data never shows.
    const everyone = await collect(reader.stats({ ...q, workers: [], splitByVariant: false }));
    expect(new Set(everyone.map((r) => r.worker))).toEqual(new Set(["w-a", hostile]));
    expect(everyone.some((r) => r.value === 999)).toBe(false);
    const other = await collect(
      reader.stats({ ...q, company: "other-company", workers: [], splitByVariant: false }),
    );
    expect(other.map((r) => r.value)).toEqual([999, 999, 999]);
    await writer.close();
  });

  it("turns hostile names into no match, not into Flux", async () => {
    const { writer, reader } = await fresh();
    await writer.submit(reportLines(report("w", T0, { cpu_usage: [1] })));
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a Flux interpolation attempt, on purpose
    for (const name of ['" or true or "', '") |> drop(columns: ["company"]) //', "${r.worker}"]) {
      const rows = await collect(
        reader.stats({
          company: name,
          workers: [name],
          range: range(T0, T0 + HOUR, 60_000),
          metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.AVG] }],
          splitByVariant: true,
        }),
      );
      expect(rows).toEqual([]);
    }
    await writer.close();
  });
});

describe("Flux activity report", () => {
  /** Distinct workers and task-running workers per bucket, from the reports. */
  function expectedActivity(reports: readonly Report[], r: BucketRange): ActivityRow[] {
    const buckets = new Map<number, Map<string, boolean>>();
    for (const rep of reports) {
      if (rep.timeMs < r.fromMs || rep.timeMs > r.toMs) continue;
      const b = bucketStart(rep.timeMs, r.intervalMs);
      const workers = buckets.get(b) ?? new Map<string, boolean>();
      workers.set(rep.worker, (workers.get(rep.worker) ?? false) || rep.task !== undefined);
      buckets.set(b, workers);
    }
    return [...buckets]
      .map(([bucketMs, w]) => ({
        bucketMs,
        total: w.size,
        active: [...w.values()].filter(Boolean).length,
      }))
      .sort((a, b) => a.bucketMs - b.bucketMs);
  }

  it("counts distinct workers and active ones from reports, the hourly rollup, and both", async () => {
    const { writer, reader } = await fresh();
    const reports: Report[] = [];
    // 6 workers over 7 hours every 10 minutes; worker i runs a task in hours where (hour + i) % 3 == 0.
    for (let w = 0; w < 6; w++) {
      for (let t = T0; t < T0 + 7 * HOUR; t += 600_000) {
        const hour = Math.floor((t - T0) / HOUR);
        if ((hour + w) % 5 === 4) continue; // a missing hour now and then
        const at = t + w * 1000;
        reports.push(report(`w${w}`, at, {}, (hour + w) % 3 === 0 ? "t" : undefined));
      }
    }
    await Promise.all(reports.map((r) => writer.submit(reportLines(r))));
    const sorted = (rows: ActivityRow[]) => [...rows].sort((a, b) => a.bucketMs - b.bucketMs);
    for (const r of [
      range(T0 + 5 * 60_000, T0 + 6 * HOUR + 5 * 60_000, 20 * 60_000), // reports only
      range(T0, T0 + 7 * HOUR - 1, HOUR), // rollup only, counted
      range(T0 + 25 * 60_000, T0 + 6 * HOUR + 30 * 60_000, HOUR), // rollup + partial hours
      range(T0 + 25 * 60_000, T0 + 6 * HOUR + 30 * 60_000, 2 * HOUR), // rollup + edges, 2 h
    ]) {
      const got = sorted(await collect(reader.activity({ company: "acme", range: r })));
      expect(got).toEqual(expectedActivity(reports, r));
    }
    expect(
      await collect(reader.activity({ company: "nobody", range: range(T0, T0 + 7 * HOUR, HOUR) })),
    ).toEqual([]);
    await writer.close();
  });
});

describe("WriteApi writer during an outage", () => {
  it("rejects a batch it could not write with UNAVAILABLE, and writes again once InfluxDB is back", async () => {
    const { writer, reader } = await fresh({ maxRetries: 2, maxRetryTimeMs: 1_000 });
    const q = (t: number) => ({
      company: "acme",
      workers: [],
      range: range(t, t, 60_000),
      metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.AVG] }],
      splitByVariant: false,
    });
    await writer.submit(reportLines(report("w", T0, { cpu_usage: [1] })));
    await influxd.stop();
    try {
      const failed = writer.submit(reportLines(report("w", T0 + 60_000, { cpu_usage: [2] })));
      await expect(failed).rejects.toBeInstanceOf(ApiError);
      await expect(failed).rejects.toThrow(
        /stats store unreachable: InfluxDB write failed after 3 attempts/,
      );
    } finally {
      await influxd.start();
    }
    await writer.submit(reportLines(report("w", T0 + 120_000, { cpu_usage: [3] })));
    expect((await collect(reader.stats(q(T0 + 120_000)))).map((r) => r.value)).toEqual([3]);
    expect((await collect(reader.stats(q(T0)))).map((r) => r.value)).toEqual([1]);
    await writer.close();
  });

  it("acknowledges a batch the client's retries got through once InfluxDB came back", async () => {
    const { writer, reader } = await fresh({ maxRetries: 50, maxRetryTimeMs: 20_000 });
    await influxd.stop();
    let acknowledged = false;
    const pending = writer.submit(reportLines(report("w", T0, { cpu_usage: [42] }))).then(() => {
      acknowledged = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(acknowledged).toBe(false);
    await influxd.start();
    await pending;
    const rows = await collect(
      reader.stats({
        company: "acme",
        workers: ["w"],
        range: range(T0, T0, 60_000),
        metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.MAX] }],
        splitByVariant: true,
      }),
    );
    expect(rows).toEqual([
      {
        worker: "w",
        metric: "cpu_usage",
        variant: "total",
        aggregation: Aggregation.MAX,
        bucketMs: T0,
        value: 42,
      },
    ]);
    await writer.close();
  });

  it("refuses a batch InfluxDB rejects as a plain error, without retrying it", async () => {
    const { writer } = await fresh();
    await expect(writer.submit(["machine_stats,company=a value=notanumber 1"])).rejects.toThrow(
      /stats store refused the write: InfluxDB answered the write with 400 after 1 attempt/,
    );
    await writer.close();
  });

  it("makes a reader's failure to reach InfluxDB UNAVAILABLE", async () => {
    const client = new InfluxDB({ url: "http://127.0.0.1:1", token: "t", timeout: 2_000 });
    const reader = new FluxReader(client.getQueryApi("o"), "b");
    const rows = collect(
      reader.stats({
        company: "a",
        workers: [],
        range: range(T0, T0 + HOUR, 60_000),
        metrics: [{ metric: "cpu_usage", aggregations: [Aggregation.AVG] }],
        splitByVariant: true,
      }),
    );
    await expect(rows).rejects.toBeInstanceOf(ApiError);
  });
});
