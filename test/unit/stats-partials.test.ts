// get_stats rows merged from per-series window aggregates: a mean over several series is the sum
// of sums over the sum of counts (not a mean of means), min and max merge as such, and only the
// aggregations asked of a metric are answered.
import { describe, expect, it } from "vitest";
import { Aggregation } from "../../src/gen/muster/workers/v1/types_pb.js";
import { partialsOfQuery, StatsPartials } from "../../src/stats/influx/stats-partials.js";

describe("StatsPartials", () => {
  it("merges series into one row per worker, metric, variant and bucket", () => {
    const partials = new StatsPartials();
    // gpu_usage of w over two devices (not split): device 0 has 3 samples summing to 30, device
    // 1 one sample of 2. The mean is 32 / 4 = 8, not (10 + 2) / 2.
    partials.add("w", "gpu_usage", undefined, 0, "sum", 30);
    partials.add("w", "gpu_usage", undefined, 0, "count", 3);
    partials.add("w", "gpu_usage", undefined, 0, "sum", 2);
    partials.add("w", "gpu_usage", undefined, 0, "count", 1);
    partials.add("w", "gpu_usage", undefined, 0, "max", 15);
    partials.add("w", "gpu_usage", undefined, 0, "max", 2);
    partials.add("w", "gpu_usage", undefined, 0, "min", 5);
    partials.add("w", "gpu_usage", undefined, 0, "min", 2);
    partials.add("w", "gpu_usage", undefined, 60_000, "sum", 7);
    partials.add("w", "gpu_usage", undefined, 60_000, "count", 1);
    partials.add("w", "cpu_usage", undefined, 0, "max", 99);
    const rows = [
      ...partials.rows([
        { metric: "gpu_usage", aggregations: [Aggregation.AVG, Aggregation.MIN, Aggregation.MAX] },
      ]),
    ].map((r) => [r.metric, r.bucketMs, Aggregation[r.aggregation], r.value]);
    expect(rows.sort()).toEqual(
      [
        ["gpu_usage", 0, "AVG", 8],
        ["gpu_usage", 0, "MIN", 2],
        ["gpu_usage", 0, "MAX", 15],
        // The second bucket has only the mean's partials: no min or max row is made up.
        ["gpu_usage", 60_000, "AVG", 7],
      ].sort(),
    );
  });

  it("keeps variants apart when split, and workers apart always", () => {
    const partials = new StatsPartials();
    for (const [worker, variant, value] of [
      ["a", "0", 1],
      ["a", "1", 2],
      ["b", "0", 3],
    ] as const) {
      partials.add(worker, "gpu_usage", variant, 0, "max", value);
    }
    const rows = [
      ...partials.rows([{ metric: "gpu_usage", aggregations: [Aggregation.MAX, Aggregation.MAX] }]),
    ];
    expect(rows.map((r) => [r.worker, r.variant, r.value]).sort()).toEqual([
      ["a", "0", 1],
      ["a", "1", 2],
      ["b", "0", 3],
    ]);
  });

  it("asks sum and count for a mean (unspecified included), min and max for themselves", () => {
    expect(
      partialsOfQuery([
        { metric: "a", aggregations: [Aggregation.UNSPECIFIED] },
        { metric: "b", aggregations: [Aggregation.MAX] },
      ]),
    ).toEqual(["count", "max", "sum"]);
    expect(partialsOfQuery([{ metric: "a", aggregations: [Aggregation.MIN] }])).toEqual(["min"]);
  });
});
