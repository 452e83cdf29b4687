import type { Logger } from "pino";
import { LiveCredentials } from "./auth/live-credentials.js";
import { readTokenSecret } from "./auth/token-secret.js";
import type { Config } from "./config.js";
import { systemClock } from "./core/clock.js";
import type { PresenceStore } from "./core/presence-store.js";
import type { StatsStore } from "./core/stats-store.js";
import { createMuster, type Muster } from "./muster.js";
import { MemoryPresenceStore } from "./presence/memory/memory-presence-store.js";
import { openNatsPresenceStore } from "./presence/nats/nats-presence-store.js";
import { InfluxStatsStore } from "./stats/influx/influx-stats-store.js";
import {
  BYTES_PER_SAMPLE,
  BYTES_PER_SERIES,
  MemoryStatsStore,
} from "./stats/memory/memory-stats-store.js";

/**
 * Starts muster as the configuration says: opens the stores it names, then wires them with
 * createMuster. The credentials file and the token secret are read first: a mistake there stops
 * muster before it opens a store.
 */
export async function startMuster(config: Config, log: Logger): Promise<Muster> {
  const credentials = await openCredentials(config, log);
  const tokenSecret = await openTokenSecret(config, log);
  const presence = await createPresenceStore(config, log);
  const stats = await createStatsStore(config, log).catch(async (error: unknown) => {
    await presence.close();
    throw error;
  });
  const muster = await createMuster({
    presence,
    stats,
    clock: systemClock,
    log,
    host: config.host,
    port: config.port,
    service: { maxBuckets: config.maxBuckets },
    corsOrigins: config.corsOrigins,
    queues: config.queues,
    ...(credentials === undefined ? {} : { credentials }),
    ...(tokenSecret === undefined ? {} : { tokenSecret }),
    ui: config.ui,
    limits: { maxConnections: config.maxConnections },
    ops: {
      logRequests: config.logRequests,
      ...(config.metricsListen && { metricsListen: config.metricsListen }),
    },
  });
  const { url } = muster.server;
  log.info({ url }, `muster listening on ${url} (gRPC, gRPC-Web, Connect, ClearML JSON)`);
  const metricsUrl = muster.ops.metricsUrl ?? url;
  log.info({ metrics: `${metricsUrl}/metrics` }, `metrics at ${metricsUrl}/metrics`);
  return muster;
}

async function openCredentials(config: Config, log: Logger): Promise<LiveCredentials | undefined> {
  if (config.credentials === undefined) {
    log.info(
      'auth: open, no --credentials: every caller acts as company "default" and any key logs in',
    );
    return undefined;
  }
  const credentials = await LiveCredentials.load(config.credentials).catch((error: unknown) => {
    throw new Error(`--credentials: ${(error as Error).message}`);
  });
  const { companies, keyCount } = credentials.current;
  log.info(
    { file: config.credentials, companies: companies.size, keys: keyCount },
    `auth: credentials from ${config.credentials} (${companies.size} companies, ${keyCount} keys); SIGHUP re-reads it`,
  );
  return credentials;
}

async function openTokenSecret(config: Config, log: Logger): Promise<Uint8Array | undefined> {
  if (config.tokenSecretFile === undefined) {
    log.info(
      "tokens: signed with a random key of this process (no --token-secret-file): other instances do not accept them, and a restart makes clients log in again",
    );
    return undefined;
  }
  const secret = await readTokenSecret(config.tokenSecretFile).catch((error: unknown) => {
    throw new Error(`--token-secret-file: ${(error as Error).message}`);
  });
  log.info(
    { file: config.tokenSecretFile },
    `tokens: signed with the key in ${config.tokenSecretFile}`,
  );
  return secret;
}

async function createPresenceStore(config: Config, log: Logger): Promise<PresenceStore> {
  if (config.presence === "nats") {
    const { natsUrls: urls, natsBucket: bucket, natsReplicas: replicas } = config;
    // Resolves once the bucket is loaded into the view, so the server starts with every worker.
    const store = await openNatsPresenceStore({
      url: urls,
      bucket,
      replicas,
      clock: systemClock,
      log,
    });
    log.info(
      { urls, bucket, replicas: store.replicas },
      `presence: NATS JetStream KV bucket ${bucket} (${store.replicas} replica${store.replicas === 1 ? "" : "s"}) at ${urls.join(",")}`,
    );
    return store;
  }
  log.info("presence: in memory (registrations are lost on restart)");
  return new MemoryPresenceStore(systemClock);
}

async function createStatsStore(config: Config, log: Logger): Promise<StatsStore> {
  if (config.stats === "influx") {
    const { influxUrl: url, influxOrg: org, influxBucket: bucket, influxQuery: query } = config;
    const store = await InfluxStatsStore.open({
      url,
      token: config.influxToken,
      org,
      bucket,
      query,
      retentionMs: config.influxRetentionMs,
      log,
    }).catch((error: unknown) => {
      throw new Error(`--stats influx: ${(error as Error).message}`);
    });
    const { version } = store.server;
    log.info(
      { url, org, bucket, query, version },
      `stats: InfluxDB ${version} at ${url}, bucket ${bucket}${store.server.major === 2 ? ` of org ${org}` : ""}, queried in ${query === "flux" ? "Flux" : "InfluxQL"}`,
    );
    return store;
  }
  const limits = {
    retentionMs: config.statsRetentionMs,
    maxSamples: config.statsMaxSamples,
    maxSeries: config.statsMaxSeries,
  };
  const approxMb = Math.round(
    (limits.maxSamples * BYTES_PER_SAMPLE + limits.maxSeries * BYTES_PER_SERIES) / 1_000_000,
  );
  log.info(
    {
      retentionHours: limits.retentionMs / 3_600_000,
      maxSamples: limits.maxSamples,
      maxSeries: limits.maxSeries,
    },
    `stats: in memory, keeping samples for ${limits.retentionMs / 3_600_000} h, at most ${limits.maxSamples} of them in at most ${limits.maxSeries} series (about ${approxMb} MB)`,
  );
  return new MemoryStatsStore(systemClock, limits);
}
