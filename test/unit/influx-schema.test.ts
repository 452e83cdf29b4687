// The report's lines are built with the company and worker tags encoded once per report; they
// must be exactly what the general point() writes for every line, whatever the names hold.
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/core/stats-store.js";
import { reportLines, STATS_MEASUREMENT } from "../../src/stats/influx/influx-schema.js";
import { floatValue, point } from "../../src/stats/influx/line-protocol.js";

const NAMES = ["plain", "a,b c=d", "100%\\\\share", "line\nbreak\ttab", "ünï 😀", "=", " "];

describe("reportLines", () => {
  it("writes each sample as point() would, for any company and worker name", () => {
    for (const company of NAMES) {
      for (const worker of NAMES) {
        const report: Report = {
          company,
          worker,
          timeMs: 1_700_000_000_123.7,
          task: "t",
          samples: [
            { category: "gpu", metric: "gpu_usage", variant: "0", value: 12.5 },
            { category: "gpu", metric: "gpu_usage", variant: "3", value: 0 },
            { category: "memory", metric: "memory_used", variant: "total", value: 1e21 },
            { category: "cpu", metric: "cpu_usage", variant: "0", value: Number.NaN },
          ],
        };
        const expected = report.samples
          .filter((s) => Number.isFinite(s.value))
          .map((s) =>
            point(
              STATS_MEASUREMENT,
              [
                ["category", s.category],
                ["company", company],
                ["metric", s.metric],
                ["variant", s.variant],
                ["worker", worker],
              ],
              [["value", floatValue(s.value)]],
              report.timeMs,
            ),
          );
        // The two activity lines come first.
        expect(reportLines(report).slice(2)).toEqual(expected);
      }
    }
  });
});
