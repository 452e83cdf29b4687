import { connect, type NatsConnection } from "@nats-io/transport-node";
import { unavailable } from "../../core/errors.js";

/** Per-message TTL and subject delete markers arrived in nats-server 2.11. */
export const MIN_SERVER_VERSION: readonly [number, number] = [2, 11];

/**
 * Connects to NATS for the presence store: reconnects forever, quickly (a restarted server, or
 * another server of the cluster, is served again within seconds), and notices a silent peer
 * within about 10 s. `servers` are seeds: any one reachable will do, and the cluster tells the
 * client about the others. Throws an ApiError (UNAVAILABLE) when none can be reached, and
 * refuses servers older than 2.11.
 */
export async function connectNats(servers: readonly string[]): Promise<NatsConnection> {
  const url = servers.join(",");
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: [...servers],
      name: "muster",
      timeout: 3000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 250,
      reconnectJitter: 100,
      pingInterval: 5000,
      maxPingOut: 2,
      // nats.js otherwise builds an Error (with its stack) ahead of every request, in case it
      // times out: about a tenth of muster's CPU per status report. Our errors name the store.
      noAsyncTraces: true,
    });
  } catch (error) {
    throw unavailable(
      `presence store unreachable: cannot connect to NATS at ${url}: ${messageOf(error)}`,
    );
  }
  const problem = versionProblem(nc.info?.version);
  if (problem !== undefined) {
    await nc.close().catch(() => undefined);
    throw new Error(`NATS at ${url}: ${problem}`);
  }
  return nc;
}

/**
 * Why a server of this version cannot hold presence, or undefined when it can. Older servers
 * accept the TTL settings and silently ignore them, so workers would never expire.
 */
export function versionProblem(version: string | undefined): string | undefined {
  const [needMajor, needMinor] = MIN_SERVER_VERSION;
  const match = /^v?(\d+)\.(\d+)\./.exec(version ?? "");
  const need = `${needMajor}.${needMinor}`;
  if (match === null) {
    return `cannot read the server version ("${version ?? ""}"); muster needs nats-server >= ${need}`;
  }
  const major = Number(match[1]);
  const minor = Number(match[2]);
  if (major > needMajor || (major === needMajor && minor >= needMinor)) return undefined;
  return `nats-server ${version} is too old: muster needs >= ${need} for per-message TTL (older servers accept the TTL settings and silently ignore them, so workers would never expire)`;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
