import { reflect } from "@bufbuild/protobuf/reflect";
import { type MachineStats, MachineStatsSchema } from "../gen/muster/workers/v1/types_pb.js";

/** One value of a status report's machine_stats, named as ClearML names it. */
export interface Sample {
  /** The key's prefix before the first "_": cpu, gpu, memory, network, disk. */
  readonly category: string;
  /** The machine_stats key, e.g. "gpu_usage". */
  readonly metric: string;
  /** "total" for a scalar, the list index ("0", "1", …) for a list element. */
  readonly variant: string;
  readonly value: number;
}

export const SCALAR_VARIANT = "total";

export function categoryOf(metricKey: string): string {
  const underscore = metricKey.indexOf("_");
  return underscore < 0 ? metricKey : metricKey.slice(0, underscore);
}

/** Every machine_stats key, read from the MachineStats descriptor. */
export const METRIC_KEYS: readonly string[] = MachineStatsSchema.fields.map((f) => f.name);
const metricKeySet = new Set(METRIC_KEYS);

export function isMetricKey(key: string): boolean {
  return metricKeySet.has(key);
}

/** Flattens machine_stats into samples. Zeros are kept: 0 % CPU is a measurement. */
export function samplesOf(stats: MachineStats | undefined): Sample[] {
  if (stats === undefined) return [];
  const samples: Sample[] = [];
  const message = reflect(MachineStatsSchema, stats);
  for (const field of MachineStatsSchema.fields) {
    if (!message.isSet(field)) continue;
    const category = categoryOf(field.name);
    if (field.fieldKind === "list") {
      const list = message.get(field);
      for (let i = 0; i < list.size; i++) {
        samples.push({
          category,
          metric: field.name,
          variant: String(i),
          value: Number(list.get(i)),
        });
      }
    } else if (field.fieldKind === "scalar") {
      const value = Number(message.get(field));
      samples.push({ category, metric: field.name, variant: SCALAR_VARIANT, value });
    }
  }
  return samples;
}

/** Orders variants as people read them: "0", "1", …, "10", then named ones such as "total". */
export function compareVariants(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : Number.NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : Number.NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb)) return na - nb;
  if (!Number.isNaN(na)) return -1;
  if (!Number.isNaN(nb)) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
