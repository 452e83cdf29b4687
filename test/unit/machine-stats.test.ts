// Flattening a status report's machine_stats into the samples the stats stores keep.
import { create } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { METRIC_KEYS, samplesOf } from "../../src/core/machine-stats.js";
import { MachineStatsSchema } from "../../src/gen/muster/workers/v1/types_pb.js";

describe("samplesOf", () => {
  it("gives a sample per list item and per scalar set, zeros included, and none for the rest", () => {
    const samples = samplesOf(
      create(MachineStatsSchema, {
        gpuUsage: [90, 0, 45.5],
        cpuUsage: [],
        memoryUsed: 0,
        diskFreeHome: 12.25,
      }),
    );
    expect(samples).toEqual([
      { category: "gpu", metric: "gpu_usage", variant: "0", value: 90 },
      { category: "gpu", metric: "gpu_usage", variant: "1", value: 0 },
      { category: "gpu", metric: "gpu_usage", variant: "2", value: 45.5 },
      { category: "memory", metric: "memory_used", variant: "total", value: 0 },
      { category: "disk", metric: "disk_free_home", variant: "total", value: 12.25 },
    ]);
    expect(samplesOf(undefined)).toEqual([]);
    expect(samplesOf(create(MachineStatsSchema))).toEqual([]);
  });

  it("names list items past the ones it keeps names for, and every field of the message", () => {
    const long = samplesOf(create(MachineStatsSchema, { cpuUsage: Array(1100).fill(1) }));
    expect(long.map((s) => s.variant).slice(1022, 1026)).toEqual(["1022", "1023", "1024", "1025"]);
    const every = create(MachineStatsSchema);
    for (const field of MachineStatsSchema.fields) {
      (every as unknown as Record<string, unknown>)[field.localName] =
        field.fieldKind === "list" ? [1] : 1;
    }
    expect(samplesOf(every).map((s) => s.metric)).toEqual(METRIC_KEYS);
  });
});
