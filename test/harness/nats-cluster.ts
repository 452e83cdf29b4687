// A 3-node nats-server JetStream cluster on loopback, for the fault-tolerance tests: nodes can be
// killed (SIGKILL, as a crash) and restarted on the same ports and store directories, and the
// harness says which node leads a stream.
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { greets, natsServerBinary } from "./nats-server.js";
import { freePort, type ServerProcess, serverProcess, waitUntil } from "./server-process.js";

export interface ClusterNode {
  /** The server name (`--name`), as JetStream reports leaders. */
  readonly name: string;
  readonly url: string;
  readonly port: number;
  readonly clusterPort: number;
  readonly storeDir: string;
  readonly process: ServerProcess;
  running: boolean;
}

export interface NatsCluster {
  readonly nodes: readonly ClusterNode[];
  /** Every node's client URL: the seed list a client is given. */
  readonly urls: readonly string[];
  /** Kills the node at once (SIGKILL); its store directory stays. */
  kill(node: ClusterNode): Promise<void>;
  /** Starts a killed node again on its ports and store directory; waits until it serves. */
  restart(node: ClusterNode): Promise<void>;
  /** Waits until JetStream has a meta leader (the cluster can create and serve streams). */
  waitForJetStream(timeoutMs?: number): Promise<void>;
  /** The node leading the stream's replica group, asked through any running node. */
  streamLeader(stream: string): Promise<ClusterNode | undefined>;
  /** Stops every node and removes the store directories. */
  close(): Promise<void>;
}

const SIZE = 3;
const CLUSTER_NAME = "muster-test";

export async function startNatsCluster(): Promise<NatsCluster> {
  const binary = natsServerBinary();
  const ports = await Promise.all(Array.from({ length: SIZE * 2 }, () => freePort()));
  const specs = await Promise.all(
    Array.from({ length: SIZE }, async (_, i) => ({
      name: `n${i + 1}`,
      port: ports[i * 2] as number,
      clusterPort: ports[i * 2 + 1] as number,
      storeDir: await mkdtemp(path.join(tmpdir(), `muster-nats-n${i + 1}-`)),
    })),
  );
  const routes = specs.map((s) => `nats-route://127.0.0.1:${s.clusterPort}`).join(",");
  const nodes: ClusterNode[] = specs.map((spec) => ({
    ...spec,
    url: `nats://127.0.0.1:${spec.port}`,
    running: false,
    process: serverProcess({
      name: `nats-server ${spec.name}`,
      binary,
      args: [
        "-js",
        "-a",
        "127.0.0.1",
        "-p",
        String(spec.port),
        "-sd",
        spec.storeDir,
        "--name",
        spec.name,
        "--cluster_name",
        CLUSTER_NAME,
        "--cluster",
        `nats://127.0.0.1:${spec.clusterPort}`,
        "--routes",
        routes,
      ],
      dir: spec.storeDir,
      waitReady: () =>
        waitUntil(
          () => greets(spec.port),
          15_000,
          `nats-server ${spec.name} did not accept connections on port ${spec.port}`,
        ),
      killAfterMs: 5000,
    }),
  }));

  const running = () => nodes.filter((n) => n.running);

  /** A short-lived connection to the running nodes, for admin questions. */
  async function admin<T>(ask: (nc: NatsConnection) => Promise<T>): Promise<T> {
    const nc = await connect({ servers: running().map((n) => n.url), timeout: 2000 });
    try {
      return await ask(nc);
    } finally {
      await nc.close();
    }
  }

  const cluster: NatsCluster = {
    nodes,
    urls: nodes.map((n) => n.url),
    async kill(node) {
      await node.process.kill();
      node.running = false;
    },
    async restart(node) {
      await node.process.start();
      node.running = true;
    },
    async waitForJetStream(timeoutMs = 30_000) {
      await waitUntil(
        () =>
          admin(async (nc) => {
            // Account info answers only once the meta group has a leader.
            const jsm = await jetstreamManager(nc, { timeout: 1000 });
            await jsm.getAccountInfo();
            return true;
          }).catch(() => false),
        timeoutMs,
        "JetStream cluster had no meta leader",
      );
    },
    async streamLeader(stream) {
      const leader = await admin(async (nc) => {
        const reply = await nc.request(`$JS.API.STREAM.INFO.${stream}`, undefined, {
          timeout: 2000,
        });
        const info = reply.json<{ cluster?: { leader?: string } }>();
        return info.cluster?.leader;
      });
      return nodes.find((n) => n.name === leader);
    },
    async close() {
      await Promise.all(nodes.map((n) => n.process.close()));
      for (const n of nodes) n.running = false;
    },
  };

  try {
    await Promise.all(nodes.map((n) => cluster.restart(n)));
    await cluster.waitForJetStream();
  } catch (error) {
    await cluster.close();
    throw error;
  }
  return cluster;
}
