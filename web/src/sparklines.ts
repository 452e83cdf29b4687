// CPU and GPU sparklines of the fleet table. WatchWorkers carries no machine stats, so the rows in
// view fetch the last 30 minutes with one GetStats per batch, again when those values are 30 s old.
import { Aggregation } from "../../src/gen/muster/workers/v1/types_pb.js";
import { withSignIn, workers } from "./api.js";

export interface Spark {
  readonly cpu: readonly number[];
  readonly gpu: readonly number[];
}

const WINDOW_S = 30 * 60;
const INTERVAL_S = 60;
const FRESH_MS = 30_000;
const BATCH = 100;

export class SparkCache {
  private readonly sparks = new Map<string, { spark: Spark; fetchedAt: number }>();
  private readonly inFlight = new Set<string>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private wanted: readonly string[] = [];

  /** Calls `updated` when fetched values arrive, so the table can redraw its rows. */
  constructor(private readonly updated: () => void) {}

  get(id: string): Spark | undefined {
    return this.sparks.get(id)?.spark;
  }

  /** The rows in view; fetches their stale sparklines shortly after scrolling settles. */
  want(ids: readonly string[]): void {
    this.wanted = ids;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fetchStale(), 250);
  }

  private async fetchStale(): Promise<void> {
    const now = Date.now();
    const stale = this.wanted.filter((id) => {
      const known = this.sparks.get(id);
      return !this.inFlight.has(id) && (known === undefined || now - known.fetchedAt > FRESH_MS);
    });
    // Come back when the freshest of what is shown goes stale.
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fetchStale(), FRESH_MS);
    for (let i = 0; i < stale.length; i += BATCH) {
      await this.fetch(stale.slice(i, i + BATCH), now);
    }
  }

  private async fetch(ids: readonly string[], now: number): Promise<void> {
    for (const id of ids) this.inFlight.add(id);
    try {
      const toDate = now / 1000;
      const answer = await withSignIn(() =>
        workers.getStats({
          workerIds: [...ids],
          fromDate: toDate - WINDOW_S,
          toDate,
          interval: INTERVAL_S,
          items: [
            { key: "cpu_usage", aggregation: Aggregation.AVG },
            { key: "gpu_usage", aggregation: Aggregation.AVG },
          ],
        }),
      );
      const found = new Map(answer.workers.map((w) => [w.worker, w]));
      for (const id of ids) {
        const metrics = found.get(id)?.metrics ?? [];
        const values = (key: string) =>
          metrics
            .find((m) => m.metric === key)
            ?.stats.find((s) => s.aggregation === Aggregation.AVG)?.values ?? [];
        this.sparks.set(id, {
          spark: { cpu: values("cpu_usage"), gpu: values("gpu_usage") },
          fetchedAt: now,
        });
      }
      this.updated();
    } catch {
      // A sparkline is decoration: leave the rows without one, try again on the next round.
    } finally {
      for (const id of ids) this.inFlight.delete(id);
    }
  }
}

const SPARK_WIDTH = 80;
const SPARK_HEIGHT = 22;

/** Draws values of 0–100 % as a line on the canvas, sized to its CSS box. */
export function drawSpark(
  canvas: HTMLCanvasElement,
  values: readonly number[],
  color: string,
): void {
  const ratio = window.devicePixelRatio || 1;
  // A fixed size: reading the canvas's CSS box would force a layout for every row drawn.
  const width = SPARK_WIDTH;
  const height = SPARK_HEIGHT;
  if (canvas.width !== Math.round(width * ratio)) {
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
  }
  const ctx = canvas.getContext("2d");
  if (ctx === null) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);
  if (values.length === 0) return;
  const x = (i: number) => (i / Math.max(1, Math.max(values.length, 2) - 1)) * width;
  const y = (v: number) => height - 1 - (Math.min(100, Math.max(0, v)) / 100) * (height - 2);
  // One bucket is drawn as a flat line across.
  const points = values.length === 1 ? [values[0] ?? 0, values[0] ?? 0] : values;
  const trace = () => {
    ctx.beginPath();
    points.forEach((v, i) => {
      if (i === 0) ctx.moveTo(x(i), y(v));
      else ctx.lineTo(x(i), y(v));
    });
  };
  trace();
  ctx.lineTo(x(points.length - 1), height);
  ctx.lineTo(x(0), height);
  ctx.closePath();
  ctx.globalAlpha = 0.18;
  ctx.fillStyle = color;
  ctx.fill();
  ctx.globalAlpha = 1;
  trace();
  ctx.strokeStyle = color;
  ctx.lineWidth = 1.25;
  ctx.stroke();
}
