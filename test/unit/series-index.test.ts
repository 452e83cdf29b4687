// The memory stats store's index of series by metric, variant and worker.
import { describe, expect, it } from "vitest";
import { SeriesIndex } from "../../src/stats/memory/series-index.js";

interface Worker {
  readonly id: string;
}

describe("SeriesIndex", () => {
  it("files each worker's series apart and lists a worker's variants in the order first seen", () => {
    const index = new SeriesIndex<Worker, string>();
    const a = { id: "a" };
    const b = { id: "b" };
    index.set("gpu_usage", "1", a, "a/gpu1");
    index.set("gpu_usage", "0", a, "a/gpu0");
    index.set("gpu_usage", "0", b, "b/gpu0");
    index.set("cpu_usage", "0", b, "b/cpu0");
    expect(index.get("gpu_usage", "0", a)).toBe("a/gpu0");
    expect(index.get("gpu_usage", "0", b)).toBe("b/gpu0");
    expect(index.get("cpu_usage", "0", a)).toBeUndefined();
    expect(index.ofWorker("gpu_usage", a)).toEqual(["a/gpu1", "a/gpu0"]);
    expect(index.ofWorker("gpu_usage", b)).toEqual(["b/gpu0"]);
    expect(index.ofWorker("memory_used", a)).toEqual([]);
    expect(index.metricsOf(b, () => true)).toEqual(["gpu_usage", "cpu_usage"]);
    expect(index.metricsOf(b, (series) => series.startsWith("b/cpu"))).toEqual(["cpu_usage"]);
  });

  it("deletes only the series it is asked to, and lets go of a variant with no worker left", () => {
    const index = new SeriesIndex<Worker, string>();
    const a = { id: "a" };
    const b = { id: "b" };
    index.set("gpu_usage", "0", a, "a/gpu0");
    index.set("gpu_usage", "0", b, "b/gpu0");
    index.set("gpu_usage", "1023", a, "a/gpu1023");
    expect(index.variantCount).toBe(2);
    // A series since replaced is not the one filed: nothing goes.
    expect(index.delete("gpu_usage", "0", a, "older")).toBe(false);
    expect(index.delete("gpu_usage", "7", a, "a/gpu7")).toBe(false);
    expect(index.get("gpu_usage", "0", a)).toBe("a/gpu0");
    expect(index.delete("gpu_usage", "1023", a, "a/gpu1023")).toBe(true);
    expect(index.variantCount).toBe(1);
    expect(index.delete("gpu_usage", "0", a, "a/gpu0")).toBe(true);
    expect(index.variantCount).toBe(1);
    expect(index.ofWorker("gpu_usage", b)).toEqual(["b/gpu0"]);
    expect(index.delete("gpu_usage", "0", b, "b/gpu0")).toBe(true);
    expect(index.variantCount).toBe(0);
    expect(index.ofWorker("gpu_usage", a)).toEqual([]);
  });
});
