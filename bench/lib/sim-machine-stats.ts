// Machine statistics that look like a real node's: every value walks around its own mean (a busy
// GPU stays busy, an idle one idle), so reports differ from each other and from one agent to the
// next the way a fleet's do, and a columnar store sees realistic, not constant, series.

/** ClearML's machine_stats as the agent sends them (snake_case), one list entry per GPU. */
export interface ClearmlMachineStats {
  cpu_usage: number[];
  cpu_temperature: number[];
  memory_used: number;
  memory_free: number;
  disk_free_home: number;
  disk_free_temp: number;
  disk_read: number;
  disk_write: number;
  network_rx: number;
  network_tx: number;
  gpu_usage?: number[];
  gpu_temperature?: number[];
  gpu_memory_used?: number[];
  gpu_memory_free?: number[];
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const clamp = (x: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, x));

/** One node's stats generator: a profile drawn once, values walking around it per report. */
export class MachineStatsWalk {
  private readonly memoryTotalMb: number;
  private readonly gpuMemoryMb = 81_920;
  private cpu: number;
  private readonly gpu: number[];
  private memoryUsed: number;

  constructor(private readonly gpus: number) {
    this.memoryTotalMb = 2 ** (6 + Math.floor(Math.random() * 4)) * 1024;
    this.cpu = Math.random() * 100;
    this.gpu = Array.from({ length: gpus }, () =>
      Math.random() < 0.7 ? 85 + Math.random() * 15 : Math.random() * 10,
    );
    this.memoryUsed = this.memoryTotalMb * (0.2 + Math.random() * 0.6);
  }

  next(): ClearmlMachineStats {
    this.cpu = clamp(this.cpu + (Math.random() - 0.5) * 10, 0, 100);
    this.memoryUsed = clamp(
      this.memoryUsed + (Math.random() - 0.5) * 2048,
      1024,
      this.memoryTotalMb,
    );
    const stats: ClearmlMachineStats = {
      cpu_usage: [round1(this.cpu)],
      cpu_temperature: [round1(40 + this.cpu * 0.4 + Math.random() * 3)],
      memory_used: Math.round(this.memoryUsed),
      memory_free: Math.round(this.memoryTotalMb - this.memoryUsed),
      disk_free_home: round1(40 + Math.random()),
      disk_free_temp: round1(80 + Math.random()),
      disk_read: round1(Math.random() * 50),
      disk_write: round1(Math.random() * 20),
      network_rx: round1(Math.random() * 300),
      network_tx: round1(Math.random() * 30),
    };
    if (this.gpus > 0) {
      for (let i = 0; i < this.gpus; i++) {
        this.gpu[i] = clamp((this.gpu[i] ?? 0) + (Math.random() - 0.5) * 6, 0, 100);
      }
      stats.gpu_usage = this.gpu.map(round1);
      stats.gpu_temperature = this.gpu.map((u) => round1(35 + u * 0.45 + Math.random() * 2));
      stats.gpu_memory_used = this.gpu.map((u) => Math.round(500 + (u / 100) * 70_000));
      stats.gpu_memory_free = (stats.gpu_memory_used ?? []).map((m) => this.gpuMemoryMb - m);
    }
    return stats;
  }
}
