// The fleet simulator's command line: parsed and checked up front so a typo stops the run at once
// with the flag named, instead of after minutes of load.
import { parseArgs } from "node:util";

export type SimProtocol = "clearml" | "grpc";
export type SimStart = "embedded" | "production";

export interface SimOptions {
  readonly agents: number;
  readonly gpus: number;
  readonly cadenceMs: number;
  readonly durationMs: number;
  readonly protocol: SimProtocol;
  /** muster's base URL; unset when the simulator starts muster itself. */
  readonly url: string | undefined;
  readonly start: SimStart | undefined;
  /** Stores for `--start production`: influx (InfluxDB 2.x API) or memory stats beside NATS. */
  readonly productionStats: "influx" | "memory";
  readonly pid: number | undefined;
  readonly accessKey: string | undefined;
  readonly secretKey: string | undefined;
  /** Registration timeout, seconds: how long a stopped agent stays listed. */
  readonly timeoutSeconds: number;
  /** Share of the fleet replaced per minute (half unregister, half just stop and expire). */
  readonly churnPerMinute: number;
  /** How long the agents take to join at the start (evenly spread). */
  readonly rampMs: number;
  readonly progressMs: number;
  /** Requests in flight at most; a report due beyond it is counted as skipped, not queued. */
  readonly maxInflight: number;
  /**
   * Connections to muster. A real fleet holds one per agent; over HTTP/1.1 each carries one call
   * at a time, so too few would cap the rate at connections ÷ latency (8 connections at the
   * ~20 ms an InfluxDB-acknowledged report takes is 400 reports/s) and measure the simulator.
   */
  readonly connections: number;
  /** Extra flags for a muster the simulator starts (after `--`). */
  readonly musterFlags: readonly string[];
  readonly nodeOptions: string | undefined;
}

const USAGE = `npm run simulate -- --agents N [--gpus 4] [--cadence 30s] [--duration 10m]
  [--protocol clearml|grpc] [--url http://127.0.0.1:8008 | --start embedded|production]
  [--stats influx|memory] [--pid PID] [--access-key K --secret-key S] [--timeout 90s]
  [--churn 0.02] [--ramp 30s] [--progress 5s] [--max-inflight 4000]
  [--connections 256 for clearml, 16 for grpc (h2, many calls per connection)]
  [--node-options "FLAGS" for the muster it starts; default: npm start's, "" for none]
  [-- extra muster flags]`;

/** "30s", "10m", "1h", "500ms" or a bare number of seconds, in milliseconds. */
export function durationMs(flag: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (match === null)
    throw new Error(`--${flag}: ${JSON.stringify(text)} is not a duration (30s, 10m, 1h)`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] ?? "s"] ?? 1000;
  return Number(match[1]) * unit;
}

function positiveInt(flag: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new Error(`--${flag}: must be an integer ≥ ${min}, got ${JSON.stringify(text)}`);
  return n;
}

export function parseSimArgs(argv: readonly string[]): SimOptions {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      agents: { type: "string" },
      gpus: { type: "string" },
      cadence: { type: "string" },
      duration: { type: "string" },
      protocol: { type: "string" },
      url: { type: "string" },
      start: { type: "string" },
      stats: { type: "string" },
      pid: { type: "string" },
      "access-key": { type: "string" },
      "secret-key": { type: "string" },
      timeout: { type: "string" },
      churn: { type: "string" },
      ramp: { type: "string" },
      progress: { type: "string" },
      "max-inflight": { type: "string" },
      connections: { type: "string" },
      "node-options": { type: "string" },
      help: { type: "boolean" },
    },
  });
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  if (values.agents === undefined) throw new Error(`--agents is required\n${USAGE}`);
  const protocol = values.protocol ?? "clearml";
  if (protocol !== "clearml" && protocol !== "grpc") throw new Error("--protocol: clearml or grpc");
  const start = values.start;
  if (start !== undefined && start !== "embedded" && start !== "production") {
    throw new Error("--start: embedded or production");
  }
  if ((start === undefined) === (values.url === undefined)) {
    throw new Error("give exactly one of --url (a running muster) and --start embedded|production");
  }
  const stats = values.stats ?? "influx";
  if (stats !== "influx" && stats !== "memory") throw new Error("--stats: influx or memory");
  if ((values["access-key"] === undefined) !== (values["secret-key"] === undefined)) {
    throw new Error("--access-key and --secret-key go together");
  }
  const cadenceMs = durationMs("cadence", values.cadence ?? "30s");
  if (cadenceMs < 100) throw new Error("--cadence: at least 100ms");
  const churn = Number(values.churn ?? "0.02");
  if (!(churn >= 0 && churn <= 1))
    throw new Error("--churn: a share of the fleet per minute, 0 to 1");
  return {
    agents: positiveInt("agents", values.agents, 0),
    gpus: positiveInt("gpus", values.gpus, 4, 0),
    cadenceMs,
    durationMs: durationMs("duration", values.duration ?? "10m"),
    protocol,
    url: values.url,
    start,
    productionStats: stats,
    pid: values.pid === undefined ? undefined : positiveInt("pid", values.pid, 0),
    accessKey: values["access-key"],
    secretKey: values["secret-key"],
    timeoutSeconds: Math.ceil(
      durationMs("timeout", values.timeout ?? `${(3 * cadenceMs) / 1000}s`) / 1000,
    ),
    churnPerMinute: churn,
    rampMs: durationMs("ramp", values.ramp ?? `${cadenceMs / 1000}s`),
    progressMs: durationMs("progress", values.progress ?? "5s"),
    maxInflight: positiveInt("max-inflight", values["max-inflight"], 4000),
    connections: positiveInt("connections", values.connections, protocol === "clearml" ? 256 : 16),
    musterFlags: positionals,
    nodeOptions: values["node-options"],
  };
}
