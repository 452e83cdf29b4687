// How a simulated agent talks to muster: the ClearML JSON calls a clearml-agent makes (HTTP/1.1
// keep-alive), or the Protobuf API over gRPC (grpc-js, h2c) as a daemon in another language would.
// Every call ends in an outcome string ("ok" or an error code) so errors can be counted by code.
import * as http from "node:http";
import {
  create,
  type DescMessage,
  fromBinary,
  type MessageShape,
  toBinary,
} from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { MachineStatsSchema } from "../../src/gen/muster/workers/v1/types_pb.js";
import {
  RegisterRequestSchema,
  RegisterResponseSchema,
  StatusReportRequestSchema,
  StatusReportResponseSchema,
  UnregisterRequestSchema,
  UnregisterResponseSchema,
} from "../../src/gen/muster/workers/v1/workers_pb.js";
import type { SimProtocol } from "./sim-args.js";
import type { ClearmlMachineStats } from "./sim-machine-stats.js";

export interface Report {
  readonly worker: string;
  readonly timestampMs: number;
  readonly stats: ClearmlMachineStats;
  readonly task: string | undefined;
  readonly queue: string;
}

export interface AgentClient {
  register(worker: string, timeoutSeconds: number, queue: string): Promise<string>;
  report(report: Report): Promise<string>;
  unregister(worker: string): Promise<string>;
  close(): void;
}

export function agentClient(options: {
  protocol: SimProtocol;
  url: string;
  connections: number;
  authorization: string | undefined;
}): AgentClient {
  return options.protocol === "clearml"
    ? clearmlClient(options.url, options.connections, options.authorization)
    : grpcClient(options.url, options.connections, options.authorization);
}

function clearmlClient(
  url: string,
  connections: number,
  authorization: string | undefined,
): AgentClient {
  const base = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, scheduling: "fifo" });
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (authorization !== undefined) headers.authorization = authorization;
  const call = (path: string, body: object) =>
    new Promise<string>((resolve) => {
      const payload = JSON.stringify(body);
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: "POST",
          path,
          headers: { ...headers, "content-length": Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if (res.statusCode === 200) return resolve("ok");
            let subcode = "?";
            try {
              const envelope = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
                meta?: { result_subcode?: number };
              };
              subcode = String(envelope.meta?.result_subcode ?? "?");
            } catch {
              // Not an envelope (a proxy's page, a cut answer): the status says enough.
            }
            resolve(`http ${res.statusCode}/${subcode}`);
          });
          res.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? "response error"));
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
      req.end(payload);
    });
  return {
    register: (worker, timeout, queue) =>
      call("/v2.23/workers.register", { worker, timeout, queues: [queue] }),
    report: (r) =>
      call("/v2.23/workers.status_report", {
        worker: r.worker,
        timestamp: r.timestampMs,
        machine_stats: r.stats,
        queue: r.queue,
        ...(r.task === undefined ? {} : { task: r.task }),
      }),
    unregister: (worker) => call("/v2.23/workers.unregister", { worker }),
    close: () => agent.destroy(),
  };
}

const SERVICE = "/muster.workers.v1.WorkersService";

function grpcClient(
  url: string,
  connections: number,
  authorization: string | undefined,
): AgentClient {
  const address = new URL(url).host;
  // A local subchannel pool each, or grpc-js would share one connection between the clients.
  const channels = Array.from(
    { length: connections },
    () =>
      new grpc.Client(address, grpc.credentials.createInsecure(), {
        "grpc.use_local_subchannel_pool": 1,
      }),
  );
  let next = 0;
  const metadata = new grpc.Metadata();
  if (authorization !== undefined) metadata.set("authorization", authorization);
  const call = <I extends DescMessage, O extends DescMessage>(
    method: string,
    input: I,
    output: O,
    request: MessageShape<I>,
  ) =>
    new Promise<string>((resolve) => {
      const client = channels[next++ % channels.length];
      if (client === undefined) return resolve("no channel");
      client.makeUnaryRequest(
        `${SERVICE}/${method}`,
        (m: MessageShape<I>) => Buffer.from(toBinary(input, m)),
        (b: Buffer) => fromBinary(output, b),
        request,
        metadata,
        (error) => resolve(error ? `grpc ${grpc.status[error.code] ?? error.code}` : "ok"),
      );
    });
  return {
    register: (worker, timeout, queue) =>
      call(
        "Register",
        RegisterRequestSchema,
        RegisterResponseSchema,
        create(RegisterRequestSchema, { worker, timeout, queues: [queue] }),
      ),
    report: (r) =>
      call(
        "StatusReport",
        StatusReportRequestSchema,
        StatusReportResponseSchema,
        create(StatusReportRequestSchema, {
          worker: r.worker,
          timestamp: BigInt(r.timestampMs),
          queue: r.queue,
          task: r.task ?? "",
          machineStats: create(MachineStatsSchema, camelStats(r.stats)),
        }),
      ),
    unregister: (worker) =>
      call(
        "Unregister",
        UnregisterRequestSchema,
        UnregisterResponseSchema,
        create(UnregisterRequestSchema, { worker }),
      ),
    close: () => {
      for (const c of channels) c.close();
    },
  };
}

function camelStats(s: ClearmlMachineStats) {
  return {
    cpuUsage: s.cpu_usage,
    cpuTemperature: s.cpu_temperature,
    memoryUsed: s.memory_used,
    memoryFree: s.memory_free,
    diskFreeHome: s.disk_free_home,
    diskFreeTemp: s.disk_free_temp,
    diskRead: s.disk_read,
    diskWrite: s.disk_write,
    networkRx: s.network_rx,
    networkTx: s.network_tx,
    gpuUsage: s.gpu_usage ?? [],
    gpuTemperature: s.gpu_temperature ?? [],
    gpuMemoryUsed: s.gpu_memory_used ?? [],
    gpuMemoryFree: s.gpu_memory_free ?? [],
  };
}
