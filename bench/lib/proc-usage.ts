// A process's CPU time and resident memory read from /proc (Linux), so the simulator can say what
// the muster it loads costs, whoever started it.
import { readFileSync } from "node:fs";

/** Clock ticks per second of /proc/PID/stat's times; 100 on every Linux this runs on. */
const CLK_TCK = 100;

export interface ProcSample {
  readonly atMs: number;
  /** User + system CPU seconds since the process started. */
  readonly cpuSeconds: number;
  readonly rssMb: number;
}

export function procSample(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name may hold spaces and parentheses: the fields start after the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    return {
      atMs: performance.now(),
      cpuSeconds: ticks / CLK_TCK,
      rssMb: Math.round(rssKb / 1024),
    };
  } catch {
    return undefined;
  }
}

/** CPU use between two samples, in percent of one core. */
export function cpuPercent(from: ProcSample, to: ProcSample): number {
  const seconds = (to.atMs - from.atMs) / 1000;
  return seconds > 0 ? Math.round(((to.cpuSeconds - from.cpuSeconds) / seconds) * 100) : 0;
}
