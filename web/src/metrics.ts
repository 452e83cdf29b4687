// What the dashboard says about each machine-stats key: its title and unit, and which ones it shows
// first. Keys it does not know still chart, titled by their key.

export interface MetricInfo {
  readonly title: string;
  readonly unit: string;
  /** Percentages: the y axis runs 0–100. */
  readonly percent: boolean;
}

const KNOWN: Readonly<Record<string, MetricInfo>> = {
  cpu_usage: { title: "CPU usage", unit: "%", percent: true },
  cpu_temperature: { title: "CPU temperature", unit: "°C", percent: false },
  gpu_usage: { title: "GPU usage", unit: "%", percent: true },
  gpu_temperature: { title: "GPU temperature", unit: "°C", percent: false },
  gpu_memory_used: { title: "GPU memory used", unit: "MiB", percent: false },
  gpu_memory_free: { title: "GPU memory free", unit: "MiB", percent: false },
  memory_used: { title: "Memory used", unit: "MiB", percent: false },
  memory_free: { title: "Memory free", unit: "MiB", percent: false },
  network_tx: { title: "Network sent", unit: "MiB/s", percent: false },
  network_rx: { title: "Network received", unit: "MiB/s", percent: false },
  disk_read: { title: "Disk read", unit: "MiB/s", percent: false },
  disk_write: { title: "Disk write", unit: "MiB/s", percent: false },
  disk_free_home: { title: "Free disk (home)", unit: "%", percent: true },
  disk_free_temp: { title: "Free disk (temp)", unit: "%", percent: true },
};

/** Shown when a worker has them; the rest are a click away. */
const DEFAULT_KEYS = [
  "cpu_usage",
  "gpu_usage",
  "memory_used",
  "gpu_memory_used",
  "gpu_temperature",
  "network_rx",
];

export function infoOf(key: string): MetricInfo {
  return KNOWN[key] ?? { title: key, unit: "", percent: false };
}

/** The keys to chart at first: the usual ones the worker has, else its first four. */
export function defaultSelection(available: readonly string[]): string[] {
  const usual = DEFAULT_KEYS.filter((k) => available.includes(k));
  return usual.length > 0 ? usual : available.slice(0, 4);
}

/** "0", "1", … sort as numbers; "total" (a scalar metric) goes last. */
export function compareVariants(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isInteger(na) && Number.isInteger(nb)) return na - nb;
  if (Number.isInteger(na)) return -1;
  if (Number.isInteger(nb)) return 1;
  return a.localeCompare(b);
}
