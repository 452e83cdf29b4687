// Fleet simulator (issue 11): N agents, each reporting realistic machine stats on its own cadence
// (spread evenly, with jitter), joining, leaving and vanishing; it prints a progress line every
// few seconds and a summary of offered against achieved report rate, latency, errors by code and
// muster's CPU and RSS. The capacity figure a user plans with. Run: npm run simulate -- --help
import { startInfluxd } from "../test/harness/influxd.js";
import { startNatsServer } from "../test/harness/nats-server.js";
import { LatencyHistogram } from "./lib/latency-histogram.js";
import { cpuPercent, type ProcSample, procSample } from "./lib/proc-usage.js";
import { type MusterProcess, startMusterProcess, startScriptNodeFlags } from "./lib/process.js";
import { parseSimArgs, type SimOptions } from "./lib/sim-args.js";
import { type AgentClient, agentClient } from "./lib/sim-clients.js";
import { MachineStatsWalk } from "./lib/sim-machine-stats.js";
import { TimingWheel } from "./lib/sim-wheel.js";

interface Agent {
  readonly id: string;
  readonly stats: MachineStatsWalk;
  readonly task: string | undefined;
  /** Cleared when the agent leaves; its pending wheel entry then does nothing. */
  active: boolean;
  registered: boolean;
}

/** Counters for one progress interval, or for the whole run. */
class Tally {
  offered = 0;
  ok = 0;
  skipped = 0;
  calls = 0;
  readonly latency = new LatencyHistogram();
  readonly errors = new Map<string, number>();

  error(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}

const JITTER = 0.05;

async function main(): Promise<void> {
  const options = parseSimArgs(process.argv.slice(2));
  const started = await startTarget(options);
  const authorization =
    options.accessKey === undefined
      ? undefined
      : `Basic ${Buffer.from(`${options.accessKey}:${options.secretKey}`).toString("base64")}`;
  const client = agentClient({
    protocol: options.protocol,
    url: started.url,
    connections: options.connections,
    authorization,
  });
  // Ctrl-C stops the muster (and servers) this run started too.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      client.close();
      void started.stop().finally(() => process.exit(130));
    });
  }
  try {
    await run(options, client, started.pid);
  } finally {
    client.close();
    await started.stop();
  }
}

async function startTarget(
  options: SimOptions,
): Promise<{ url: string; pid: number | undefined; stop: () => Promise<void> }> {
  if (options.url !== undefined)
    return { url: options.url, pid: options.pid, stop: async () => {} };
  const stops: Array<() => Promise<void>> = [];
  const flags: string[] = [];
  if (options.start === "production") {
    const nats = await startNatsServer();
    stops.push(() => nats.close());
    flags.push("--presence", "nats", "--nats-url", nats.url, "--nats-bucket", `sim_${Date.now()}`);
    if (options.productionStats === "influx") {
      const influx = await startInfluxd();
      stops.push(() => influx.close());
      flags.push(
        ...["--stats", "influx", "--influx-url", influx.url, "--influx-org", influx.org],
        ...["--influx-bucket", `sim_${Date.now()}`, "--influx-token", influx.token],
      );
    }
  }
  const nodeArgs =
    options.nodeOptions?.split(" ").filter((a) => a !== "") ?? startScriptNodeFlags();
  const muster: MusterProcess = await startMusterProcess(
    [...flags, ...options.musterFlags],
    nodeArgs,
  );
  console.log(
    `started muster (${options.start}) pid ${muster.pid} at ${muster.url} ${[...flags, ...options.musterFlags, ...nodeArgs].join(" ")}`,
  );
  return {
    url: muster.url,
    pid: muster.pid,
    stop: async () => {
      await muster.stop();
      for (const stop of stops.reverse()) await stop();
    },
  };
}

async function run(
  options: SimOptions,
  client: AgentClient,
  pid: number | undefined,
): Promise<void> {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const wheel = new TimingWheel<Agent>(0);
  const active: Agent[] = [];
  let serial = 0;
  let inflight = 0;
  let joined = 0;
  let unregistered = 0;
  let vanished = 0;
  const total = new Tally();
  const steady = new Tally();
  let interval = new Tally();
  const steadyFromMs = options.rampMs + 1000;

  const newAgent = (): Agent => {
    const n = serial++;
    return {
      id: `sim-node-${String(n).padStart(6, "0")}:gpu0..${Math.max(0, options.gpus - 1)}`,
      stats: new MachineStatsWalk(options.gpus),
      task: Math.random() < 0.6 ? `task-${(n % 5000).toString(16)}` : undefined,
      active: true,
      registered: false,
    };
  };
  const tallies = () => (now() >= steadyFromMs ? [total, steady, interval] : [total, interval]);
  const send = (agent: Agent, kind: "register" | "report" | "unregister") => {
    const counted = tallies();
    if (kind === "report") for (const t of counted) t.offered++;
    if (inflight >= options.maxInflight) {
      for (const t of counted) t.skipped++;
      return;
    }
    inflight++;
    const sentAt = performance.now();
    const call =
      kind === "register"
        ? client.register(agent.id, options.timeoutSeconds, "default")
        : kind === "unregister"
          ? client.unregister(agent.id)
          : client.report({
              worker: agent.id,
              timestampMs: Date.now(),
              stats: agent.stats.next(),
              task: agent.task,
              queue: "default",
            });
    void call.then((outcome) => {
      inflight--;
      const ms = performance.now() - sentAt;
      for (const t of tallies()) {
        t.calls++;
        if (outcome !== "ok") t.error(`${kind} ${outcome}`);
        else if (kind === "report") {
          t.ok++;
          t.latency.record(ms);
        }
      }
    });
  };
  const join = (atMs: number) => {
    const agent = newAgent();
    active.push(agent);
    joined++;
    // Register at join, first report a second later, then every cadence (jittered).
    wheel.at(atMs, agent);
  };
  const leave = (unregister: boolean) => {
    if (active.length === 0) return;
    const i = Math.floor(Math.random() * active.length);
    const agent = active[i];
    const last = active.pop();
    if (agent === undefined || last === undefined) return;
    if (last !== agent) active[i] = last;
    agent.active = false;
    if (unregister) {
      unregistered++;
      send(agent, "unregister");
    } else vanished++;
  };
  const fire = (agent: Agent, dueMs: number) => {
    if (!agent.active) return;
    if (!agent.registered) {
      agent.registered = true;
      send(agent, "register");
      wheel.at(dueMs + 1000, agent);
      return;
    }
    send(agent, "report");
    wheel.at(dueMs + options.cadenceMs * (1 + (Math.random() * 2 - 1) * JITTER), agent);
  };

  for (let i = 0; i < options.agents; i++) join((i / options.agents) * options.rampMs);
  const offeredRate = options.agents / (options.cadenceMs / 1000);
  console.log(
    `simulating ${options.agents} agents (${options.gpus} GPUs), ${options.protocol}, cadence ${options.cadenceMs / 1000} s ` +
      `(offered ${offeredRate.toFixed(0)} reports/s), ramp ${options.rampMs / 1000} s, churn ${(options.churnPerMinute * 100).toFixed(1)} %/min, ` +
      `timeout ${options.timeoutSeconds} s, ${options.durationMs / 1000} s`,
  );

  let churnDebt = 0;
  let lastChurnMs = 0;
  const self0 = process.cpuUsage();
  let selfLast = process.cpuUsage();
  let selfLastAt = performance.now();
  const muster0 = pid === undefined ? undefined : procSample(pid);
  let musterLast: ProcSample | undefined = muster0;
  let musterSteady: ProcSample | undefined;
  let peakRss = 0;
  let lastProgress = 0;

  await new Promise<void>((resolve) => {
    const tick = () => {
      const t = now();
      for (const agent of wheel.due(t)) fire(agent, t);
      // Churn once the fleet is up: a share per minute leaves (half unregister, half vanish and
      // expire), and as many join, so the fleet size holds.
      if (t >= options.rampMs) {
        churnDebt += ((t - lastChurnMs) / 60_000) * options.churnPerMinute * options.agents;
        while (churnDebt >= 1) {
          churnDebt--;
          leave(Math.random() < 0.5);
          join(t);
        }
      }
      lastChurnMs = t;
      if (musterSteady === undefined && t >= steadyFromMs && pid !== undefined)
        musterSteady = procSample(pid);
      if (t - lastProgress >= options.progressMs) {
        lastProgress = t;
        const m = pid === undefined ? undefined : procSample(pid);
        if (m !== undefined) peakRss = Math.max(peakRss, m.rssMb);
        const self = process.cpuUsage();
        const selfCpu = Math.round(
          ((self.user - selfLast.user + self.system - selfLast.system) /
            1000 /
            (performance.now() - selfLastAt)) *
            100,
        );
        selfLast = self;
        selfLastAt = performance.now();
        const seconds = options.progressMs / 1000;
        console.log(
          `t=${(t / 1000).toFixed(0).padStart(4)}s agents ${active.length} offered ${(interval.offered / seconds).toFixed(0)}/s ` +
            `achieved ${(interval.ok / seconds).toFixed(0)}/s p50 ${interval.latency.percentile(50).toFixed(1)} ms ` +
            `p99 ${interval.latency.percentile(99).toFixed(1)} ms errors ${sum(interval.errors)} skipped ${interval.skipped} ` +
            `inflight ${inflight}` +
            (m !== undefined && musterLast !== undefined
              ? ` | muster CPU ${cpuPercent(musterLast, m)} % RSS ${m.rssMb} MB`
              : "") +
            ` | sim CPU ${selfCpu} %`,
        );
        if (m !== undefined) musterLast = m;
        interval = new Tally();
      }
      if (t >= options.durationMs) {
        clearInterval(timer);
        resolve();
      }
    };
    const timer = setInterval(tick, 5);
  });
  // Let the calls in flight finish (bounded), so they are counted rather than lost.
  const drainUntil = performance.now() + 10_000;
  while (inflight > 0 && performance.now() < drainUntil)
    await new Promise((r) => setTimeout(r, 20));
  const end = pid === undefined ? undefined : procSample(pid);
  summarize(options, {
    total,
    steady,
    steadySeconds: Math.max(0.001, (now() - steadyFromMs) / 1000),
    joined,
    unregistered,
    vanished,
    active: active.length,
    musterCpu:
      musterSteady !== undefined && end !== undefined ? cpuPercent(musterSteady, end) : undefined,
    // CPU per call holds still when other processes take the cores; the rate then does not.
    musterCpuUsPerCall:
      musterSteady !== undefined && end !== undefined && steady.calls > 0
        ? Math.round(((end.cpuSeconds - musterSteady.cpuSeconds) * 1e6) / steady.calls)
        : undefined,
    rss: end?.rssMb,
    peakRss: Math.max(peakRss, end?.rssMb ?? 0),
    simCpu: Math.round(
      ((process.cpuUsage(self0).user + process.cpuUsage(self0).system) / 1000 / now()) * 100,
    ),
    inflightLeft: inflight,
  });
}

function sum(map: Map<string, number>): number {
  let n = 0;
  for (const v of map.values()) n += v;
  return n;
}

function summarize(
  options: SimOptions,
  r: {
    total: Tally;
    steady: Tally;
    steadySeconds: number;
    joined: number;
    unregistered: number;
    vanished: number;
    active: number;
    musterCpu: number | undefined;
    musterCpuUsPerCall: number | undefined;
    rss: number | undefined;
    peakRss: number;
    simCpu: number;
    inflightLeft: number;
  },
): void {
  const s = r.steady;
  const offered = s.offered / r.steadySeconds;
  const achieved = s.ok / r.steadySeconds;
  const errors = [...r.total.errors].map(([code, n]) => `${code}: ${n}`).join(", ") || "none";
  console.log("\n== summary ==");
  console.log(
    `agents ${options.agents} (${options.gpus} GPUs, ${options.protocol}, cadence ${options.cadenceMs / 1000} s); joined ${r.joined}, ` +
      `unregistered ${r.unregistered}, vanished ${r.vanished}, active at end ${r.active}`,
  );
  console.log(
    `steady state (${r.steadySeconds.toFixed(0)} s after the ramp): offered ${offered.toFixed(0)} reports/s, achieved ${achieved.toFixed(0)}/s ` +
      `(${offered > 0 ? ((achieved / offered) * 100).toFixed(1) : "-"} %), p50 ${s.latency.percentile(50).toFixed(1)} ms, ` +
      `p99 ${s.latency.percentile(99).toFixed(1)} ms, skipped ${s.skipped}`,
  );
  console.log(
    `calls ${r.total.calls}, errors by code: ${errors}${r.inflightLeft > 0 ? `, ${r.inflightLeft} still in flight at exit` : ""}`,
  );
  console.log(
    `muster: CPU ${r.musterCpu ?? "-"} % of one core (steady state), ${r.musterCpuUsPerCall ?? "-"} µs CPU per call, RSS ${r.rss ?? "-"} MB at end, peak ${r.peakRss || "-"} MB; simulator CPU ${r.simCpu} %`,
  );
  console.log(
    `SIM_JSON ${JSON.stringify({
      agents: options.agents,
      protocol: options.protocol,
      offered: Math.round(offered),
      achieved: Math.round(achieved),
      p50: s.latency.percentile(50),
      p99: s.latency.percentile(99),
      errors: sum(r.total.errors),
      skipped: s.skipped,
      musterCpu: r.musterCpu,
      musterCpuUsPerCall: r.musterCpuUsPerCall,
      rss: r.rss,
      peakRss: r.peakRss,
      simCpu: r.simCpu,
    })}`,
  );
}

await main();
