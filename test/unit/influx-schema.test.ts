// A report's samples are one worker_stats point, a field per metric and device; its lines must
// carry any company and worker name exactly as the general point() writes them.
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/core/stats-store.js";
import {
  parseStatsField,
  reportLines,
  STATS_MEASUREMENT,
  statsFieldsPattern,
} from "../../src/stats/influx/influx-schema.js";
import { floatValue, point } from "../../src/stats/influx/line-protocol.js";

const NAMES = ["plain", "a,b c=d", "100%\\\\share", "line\nbreak\ttab", "ünï 😀", "=", " "];

function report(company: string, worker: string, samples: Report["samples"]): Report {
  return { company, worker, timeMs: 1_700_000_000_123.7, task: "t", samples };
}

describe("reportLines", () => {
  it("writes the samples as one point with a field per metric and device, for any name", () => {
    const samples = [
      { category: "gpu", metric: "gpu_usage", variant: "0", value: 12.5 },
      { category: "gpu", metric: "gpu_usage", variant: "3", value: 0 },
      { category: "memory", metric: "memory_used", variant: "total", value: 1e21 },
      { category: "cpu", metric: "cpu_usage", variant: "0", value: Number.NaN },
    ];
    for (const company of NAMES) {
      for (const worker of NAMES) {
        const expected = point(
          STATS_MEASUREMENT,
          [
            ["company", company],
            ["worker", worker],
          ],
          samples
            .filter((s) => Number.isFinite(s.value))
            .map((s) => [`${s.metric}.${s.variant}`, floatValue(s.value)] as const),
          1_700_000_000_123.7,
        );
        // The two activity lines come first.
        expect(reportLines(report(company, worker, samples)).slice(2)).toEqual([expected]);
      }
    }
  });

  it("leaves the hourly rollup out when asked to, and only it", () => {
    const samples = [{ category: "gpu", metric: "gpu_usage", variant: "0", value: 12.5 }];
    const withRollup = reportLines(report("c", "w", samples));
    expect(withRollup[1]).toMatch(/^activity_1h,company=c,worker=w seen=1i,active=1i \d+$/);
    expect(reportLines(report("c", "w", samples), false)).toEqual([withRollup[0], withRollup[2]]);
  });

  it("writes activity alone for a report without a finite sample (a point needs a field)", () => {
    const nan = [{ category: "cpu", metric: "cpu_usage", variant: "0", value: Number.NaN }];
    expect(reportLines(report("c", "w", nan))).toHaveLength(2);
    expect(reportLines(report("c", "w", []))).toHaveLength(2);
  });
});

describe("worker_stats fields", () => {
  it("name the metric and variant, and nothing else parses as one", () => {
    expect(parseStatsField("gpu_usage.3")).toEqual({ metric: "gpu_usage", variant: "3" });
    expect(parseStatsField("memory_used.total")).toEqual({
      metric: "memory_used",
      variant: "total",
    });
    for (const other of ["value", ".0", "gpu_usage.", ""]) {
      expect(parseStatsField(other)).toBeUndefined();
    }
  });

  it("are matched by a pattern of plain metric keys only", () => {
    const pattern = new RegExp(statsFieldsPattern(["cpu_usage", "gpu_usage"]));
    expect(pattern.test("gpu_usage.0")).toBe(true);
    expect(pattern.test("cpu_usage.total")).toBe(true);
    expect(pattern.test("gpu_usage_x.0")).toBe(false);
    expect(pattern.test("xcpu_usage.0")).toBe(false);
    for (const bad of ["a|.*", "a/", "a)", ""]) {
      expect(() => statsFieldsPattern([bad])).toThrow(/bad metric key/);
    }
    expect(() => statsFieldsPattern([])).toThrow(/at least one/);
  });
});
