// What InfluxDB itself costs per status report, muster left out: influxd fed the batches muster
// sends (5,000 lines, 2 writes in flight) for 20 s, in muster's earlier layout (a line per sample,
// one series per worker, metric and device: still read as machine_stats) and in today's (a line
// per report, a field per metric and device: one series per worker, worker_stats), and today's
// with the hourly activity rollup written once per worker and hour instead of with every report
// (what muster does since the eighth round of issue 11). The reasons for both changes, kept to
// re-measure them.
// Run: npm run bench:build && node dist-bench/bench/influx-schema-cost.js
// (BENCH_WORKERS=5000,50000, BENCH_SECONDS=20, BENCH_LAYOUTS=narrow,wide,hourly, BENCH_LINES=5000
// lines per write)
import { startInfluxd } from "../test/harness/influxd.js";

const WORKERS = (process.env.BENCH_WORKERS ?? "5000,50000").split(",").map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 20);
const LINES_PER_WRITE = Number(process.env.BENCH_LINES ?? 5000);
const IN_FLIGHT = 2;
/** A 4-GPU node's machine_stats keys and devices, as muster stores them. */
const SAMPLES: ReadonlyArray<readonly [string, string, string]> = [
  ...["0", "1"].map((v) => ["cpu", "cpu_usage", v] as const),
  ...["gpu_usage", "gpu_memory_used", "gpu_memory_free", "gpu_temperature"].flatMap((m) =>
    ["0", "1", "2", "3"].map((v) => ["gpu", m, v] as const),
  ),
  ...["memory_used", "memory_free"].map((m) => ["memory", m, "total"] as const),
  ...["network_tx", "network_rx"].map((m) => ["network", m, "total"] as const),
  ...["disk_free_home", "disk_free_temp", "disk_read", "disk_write"].map(
    (m) => ["disk", m, "total"] as const,
  ),
];

type Layout = "narrow" | "wide" | "hourly";
const LAYOUTS = (process.env.BENCH_LAYOUTS ?? "narrow,wide,hourly").split(",") as Layout[];
const LAYOUT_TITLES: Record<Layout, string> = {
  narrow: "a line per sample (earlier layout)",
  wide: "a line per report (worker_stats)",
  hourly: "worker_stats, rollup once an hour (today)",
};

/** Workers whose rollup point of the hour was written (the hourly layout writes it once). */
const rollupsWritten = new Map<string, number>();

function reportLines(worker: string, timeMs: number, layout: Layout): string[] {
  const hour = Math.floor(timeMs / 3_600_000) * 3_600_000;
  const activity = [`activity,company=c,worker=${worker} active=1i ${timeMs}`];
  if (layout !== "hourly" || rollupsWritten.get(worker) !== hour) {
    activity.push(`activity_1h,company=c,worker=${worker} seen=1i,active=1i ${hour}`);
    rollupsWritten.set(worker, hour);
  }
  if (layout !== "narrow") {
    const fields = SAMPLES.map(([, m, v], i) => `${m}.${v}=${i * 1.5 + (timeMs % 7)}`).join(",");
    return [...activity, `worker_stats,company=c,worker=${worker} ${fields} ${timeMs}`];
  }
  return [
    ...activity,
    ...SAMPLES.map(
      ([c, m, v], i) =>
        `machine_stats,category=${c},company=c,metric=${m},variant=${v},worker=${worker} value=${i * 1.5 + (timeMs % 7)} ${timeMs}`,
    ),
  ];
}

async function measure(workers: number, layout: Layout): Promise<number> {
  rollupsWritten.clear();
  const influx = await startInfluxd();
  try {
    const url = `${influx.url}/api/v2/write?org=${influx.org}&bucket=${influx.bucket}&precision=ms`;
    let next = 0;
    let reports = 0;
    let timeMs = Date.now() - 3_600_000;
    const started = performance.now();
    const writer = async () => {
      while (performance.now() - started < SECONDS * 1000) {
        const lines: string[] = [];
        while (lines.length < LINES_PER_WRITE) {
          lines.push(...reportLines(`sim-node-${next++ % workers}`, timeMs++, layout));
          reports++;
        }
        const answer = await fetch(url, {
          method: "POST",
          headers: { authorization: `Token ${influx.token}` },
          body: lines.join("\n"),
        });
        if (answer.status !== 204)
          throw new Error(`write: ${answer.status} ${await answer.text()}`);
      }
    };
    await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
    return Math.round(reports / ((performance.now() - started) / 1000));
  } finally {
    await influx.close();
  }
}

console.log(`| workers | ${LAYOUTS.map((layout) => LAYOUT_TITLES[layout]).join(" | ")} |`);
console.log(`|---|${LAYOUTS.map(() => "---|").join("")}`);
for (const workers of WORKERS) {
  const rates: string[] = [];
  for (const layout of LAYOUTS)
    rates.push(`${(await measure(workers, layout)).toLocaleString("en")} reports/s`);
  console.log(`| ${workers.toLocaleString("en")} | ${rates.join(" | ")} |`);
}
