import { describe, expect, it } from "vitest";
import type { BucketRange } from "../../src/core/buckets.js";
import type { StatsQuery } from "../../src/core/stats-store.js";
import { Aggregation } from "../../src/gen/muster/workers/v1/types_pb.js";
import { activityFlux, equalsAny, fluxDurationMs, statsFlux } from "../../src/stats/influx/flux.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 1);

function range(fromMs: number, toMs: number, intervalMs: number): BucketRange {
  return {
    fromMs,
    toMs,
    intervalMs,
    firstBucketMs: Math.floor(fromMs / intervalMs) * intervalMs,
    lastBucketMs: Math.floor(toMs / intervalMs) * intervalMs,
  };
}

function statsQuery(overrides: Partial<StatsQuery> = {}): StatsQuery {
  return {
    company: "acme",
    workers: ["w1", "w2"],
    range: range(T0, T0 + HOUR, 60_000),
    metrics: [
      { metric: "cpu_usage", aggregations: [Aggregation.AVG, Aggregation.MAX] },
      { metric: "gpu_usage", aggregations: [Aggregation.MIN] },
    ],
    splitByVariant: true,
    ...overrides,
  };
}

/**
 * Splits Flux into its code and its string literals, honouring the escapes `\\`, `\"` and `\${`
 * (an unescaped `${` inside a Flux string would be interpolation, i.e. code).
 */
function lex(text: string): { code: string; strings: string[] } {
  let code = "";
  const strings: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c !== '"') {
      code += c;
      i++;
      continue;
    }
    let value = "";
    i++;
    for (;;) {
      const d = text[i];
      if (d === undefined) throw new Error(`unterminated string in ${text}`);
      if (d === "\\") {
        const e = text[i + 1] ?? "";
        value += e === "n" ? "\n" : e === "r" ? "\r" : e === "t" ? "\t" : e;
        i += 2;
        continue;
      }
      if (d === "$" && text[i + 1] === "{") throw new Error(`interpolation in a string: ${text}`);
      if (d === '"') break;
      value += d;
      i++;
    }
    i++;
    code += '""';
    strings.push(value);
  }
  return { code, strings };
}

const hostile = [
  'a" or r.company != "x',
  "b\\",
  'c\\" or true or "',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Flux interpolation attempt, on purpose
  "d${r.company}",
  "e\nf",
  'g) |> drop(columns: ["company"]) //',
  "ünïcødé ☃",
  "%",
];

describe("Flux get_stats", () => {
  it("asks one pushed-down aggregateWindow per partial aggregate, in an inclusive range", () => {
    const text = statsFlux("muster", statsQuery())?.toString() ?? "";
    // AVG needs sum and count; MAX and MIN one each.
    expect(text.match(/aggregateWindow\(/g)).toHaveLength(4);
    for (const fn of ["count", "max", "min", "sum"]) {
      expect(text).toContain(`fn: ${fn}, createEmpty: false, timeSrc: "_start")`);
      expect(text).toContain(`yield(name: "${fn}")`);
    }
    expect(text).toContain(
      'range(start: time(v: "2024-01-01T00:00:00.000Z"), stop: time(v: "2024-01-01T01:00:00.001Z"))',
    );
    expect(text).toContain('every: duration(v: "60000ms")');
    expect(text).toContain('(r.worker == "w1" or r.worker == "w2")');
    // aggregateWindow follows filter directly: the shape InfluxDB pushes down.
    expect(text).toMatch(/\|> filter\([^\n]*\)\n {2}\|> aggregateWindow/);
    expect(text).not.toContain("group(");
    expect(text).not.toContain("map(");
  });

  it("reads both stored layouts: worker_stats fields by pattern, legacy machine_stats by tag", () => {
    const text = statsFlux("muster", statsQuery())?.toString() ?? "";
    expect(text).toContain('r._measurement == "worker_stats" and r._field =~ /^(?:cpu_usage)\\./');
    expect(text).toContain(
      'r._measurement == "machine_stats" and r._field == "value" and (r.metric == "cpu_usage")',
    );
  });

  it("asks the same per-series aggregates whether split by variant or not", () => {
    // Not split, the devices of a metric are merged in Node from the same per-series partials.
    expect(statsFlux("muster", statsQuery({ splitByVariant: false }))?.toString()).toBe(
      statsFlux("muster", statsQuery())?.toString(),
    );
  });

  it("asks nothing when nothing can match", () => {
    expect(statsFlux("b", statsQuery({ workers: [""] }))).toBeUndefined();
    expect(statsFlux("b", statsQuery({ metrics: [] }))).toBeUndefined();
    expect(
      statsFlux("b", statsQuery({ range: range(T0 + 0.5, T0 + 0.7, 60_000) })),
    ).toBeUndefined();
  });

  it("filters every worker of the company when none is named", () => {
    const text = statsFlux("muster", statsQuery({ workers: [] }))?.toString() ?? "";
    expect(text).not.toContain("r.worker");
    expect(text).toContain('r.company == "acme"');
  });

  it.each(hostile)("keeps the value %j inside a string literal", (value) => {
    const benign = lex(
      statsFlux("bucket", statsQuery({ company: "c", workers: ["w", "x"] }))?.toString() ?? "",
    );
    const attacked = lex(
      statsFlux(value, statsQuery({ company: value, workers: [value, `${value}2`] }))?.toString() ??
        "",
    );
    // Same code around the strings: no value became code.
    expect(attacked.code).toBe(benign.code);
    // The bucket as given; tag values as stored (percent-encoded `%`, `\` and control chars).
    expect(attacked.strings).toContain(value);
    const stored = value.replace(
      /[%\\\n]/g,
      (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`,
    );
    expect(attacked.strings).toContain(stored);
  });
});

describe("Flux activity report", () => {
  it("counts from the reports at an interval that is not whole hours", () => {
    const text = activityFlux("b", "acme", range(T0, T0 + HOUR, 300_000))?.toString() ?? "";
    expect(text).toContain('r._measurement == "activity"');
    expect(text).not.toContain("activity_1h");
    expect(text).toContain("fn: max, createEmpty: false");
    expect(text).toContain("reduce(");
  });

  it("counts rollup points at an interval of one hour over whole hours", () => {
    const text = activityFlux("b", "acme", range(T0, T0 + 24 * HOUR - 1, HOUR))?.toString() ?? "";
    expect(text).toContain('r._measurement == "activity_1h"');
    expect(text).not.toContain('r._measurement == "activity"');
    expect(text).toContain('group(columns: ["_field"])');
    expect(text).toContain("fn: count, createEmpty: false");
    expect(text).not.toContain("union(");
  });

  it("counts the interior from the rollup and only the edge buckets per worker, never a table per worker and window", () => {
    const text =
      activityFlux(
        "b",
        "acme",
        range(T0 + 60_000, T0 + 10 * HOUR + 60_000, 2 * HOUR),
      )?.toString() ?? "";
    // Interior: 02:00–10:00 from the rollup, windowed per series, counted per window and field.
    expect(text).toContain(
      'range(start: time(v: "2024-01-01T02:00:00.000Z"), stop: time(v: "2024-01-01T10:00:00.000Z"))',
    );
    expect(text).toContain('group(columns: ["_time", "_field"])');
    expect(text).not.toContain('group(columns: ["_time", "worker"])');
    // Edges: 00:00–02:00 (partial first hour + one rollup hour) and 10:00–10:01 (partial).
    expect(text.match(/distinct\(column: "worker"\)/g)).toHaveLength(4);
    expect(text).toContain('kind: "total"');
    expect(text).toContain(
      'range(start: time(v: "2024-01-01T01:00:00.000Z"), stop: time(v: "2024-01-01T02:00:00.000Z"))',
    );
  });

  it("merges the partial hours at either end from the reports", () => {
    const text =
      activityFlux("b", "acme", range(T0 + 60_000, T0 + 5 * HOUR + 60_000, HOUR))?.toString() ?? "";
    expect(text).toContain("union(tables: [");
    expect(text.match(/r\._measurement == "activity" /g)).toHaveLength(2);
    expect(text).toContain(
      'range(start: time(v: "2024-01-01T00:01:00.000Z"), stop: time(v: "2024-01-01T01:00:00.000Z"))',
    );
    expect(text).toContain(
      'range(start: time(v: "2024-01-01T05:00:00.000Z"), stop: time(v: "2024-01-01T05:01:00.001Z"))',
    );
  });

  it.each(hostile)("keeps the company %j inside a string literal", (value) => {
    const r = range(T0 + 60_000, T0 + 5 * HOUR + 60_000, HOUR);
    const benign = lex(activityFlux("b", "c", r)?.toString() ?? "");
    const attacked = lex(activityFlux(value, value, r)?.toString() ?? "");
    expect(attacked.code).toBe(benign.code);
    expect(attacked.strings).toContain(value);
  });
});

describe("Flux literals", () => {
  it("refuses what has no literal", () => {
    expect(() => equalsAny("worker", [])).toThrow(/at least one/);
    expect(() => equalsAny("r.x or true", ["a"])).toThrow(/bad column/);
    expect(() => fluxDurationMs(0)).toThrow(/bad duration/);
    expect(() => fluxDurationMs(1.5)).toThrow(/bad duration/);
  });
});

describe("Flux get_stats per function", () => {
  it("reads for each function only the metrics asked of it", () => {
    const text = statsFlux("muster", statsQuery())?.toString() ?? "";
    const pipelines = text.split("\nfrom(");
    const of = (fn: string) => pipelines.find((p) => p.includes(`yield(name: "${fn}")`)) ?? "";
    for (const fn of ["count", "max", "sum"]) {
      expect(of(fn)).toContain('(r.metric == "cpu_usage")');
      expect(of(fn)).not.toContain("gpu_usage");
    }
    expect(of("min")).toContain('(r.metric == "gpu_usage")');
    expect(of("min")).toContain("/^(?:gpu_usage)\\./");
    expect(of("min")).not.toContain("cpu_usage");
  });
});
