import { parseArgs } from "node:util";
import {
  DEFAULT_MAX_BUCKETS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_STATS_MAX_SAMPLES,
  DEFAULT_STATS_MAX_SERIES,
  DEFAULT_STATS_RETENTION_MS,
} from "./core/defaults.js";

export interface Config {
  readonly host: string;
  readonly port: number;
  readonly presence: "memory" | "nats";
  /** Seed servers of one NATS cluster (or the one server). */
  readonly natsUrls: readonly string[];
  readonly natsBucket: string;
  readonly natsReplicas: number;
  readonly stats: "memory" | "influx";
  readonly influxUrl: string;
  readonly influxOrg: string;
  readonly influxBucket: string;
  readonly influxToken: string;
  readonly influxQuery: "flux" | "influxql";
  readonly influxRetentionMs: number;
  readonly credentials: string | undefined;
  readonly tokenSecretFile: string | undefined;
  readonly queues: readonly string[];
  readonly allowAnonymous: boolean;
  readonly statsRetentionMs: number;
  readonly statsMaxSamples: number;
  readonly statsMaxSeries: number;
  readonly maxBuckets: number;
  readonly maxConnections: number;
  readonly logLevel: string;
  readonly corsOrigins: readonly string[];
  /** Where /metrics is served when not on the main port. */
  readonly metricsListen: { readonly host: string; readonly port: number } | undefined;
  readonly logRequests: "all" | "errors" | "none";
  readonly ui: boolean;
}

/** A bad flag or environment value; main prints its message alone and exits. */
export class ConfigError extends Error {}

interface Setting {
  /** A switch takes no value on the command line; its variable takes true/false, 1/0, yes/no. */
  readonly kind?: "switch";
  readonly flag: string;
  readonly env: string;
  readonly fallback: string;
  readonly help: string;
}

/** Flag, environment variable and default of every setting; precedence: flag, env, default. */
const SETTINGS = {
  listen: {
    flag: "listen",
    env: "MUSTER_LISTEN",
    fallback: "127.0.0.1:8008",
    help: "HOST:PORT to serve every protocol on",
  },
  presence: {
    flag: "presence",
    env: "MUSTER_PRESENCE",
    fallback: "memory",
    help: "presence store: memory|nats",
  },
  natsUrl: {
    flag: "nats-url",
    env: "NATS_URL",
    fallback: "nats://127.0.0.1:4222",
    help: "NATS server for --presence nats; several seed servers of a cluster comma-separated",
  },
  natsReplicas: {
    flag: "nats-replicas",
    env: "NATS_REPLICAS",
    fallback: "1",
    help: "replicas of the KV bucket when muster creates it (3 or 5 on a cluster)",
  },
  natsBucket: {
    flag: "nats-bucket",
    env: "NATS_BUCKET",
    fallback: "muster_workers",
    help: "JetStream key-value bucket for --presence nats (created if missing)",
  },
  stats: {
    flag: "stats",
    env: "MUSTER_STATS",
    fallback: "memory",
    help: "stats store: memory|influx",
  },
  influxUrl: {
    flag: "influx-url",
    env: "INFLUX_URL",
    fallback: "http://127.0.0.1:8086",
    help: "InfluxDB for --stats influx",
  },
  influxOrg: {
    flag: "influx-org",
    env: "INFLUX_ORG",
    fallback: "muster",
    help: "InfluxDB 2.x organization (1.x ignores it)",
  },
  influxBucket: {
    flag: "influx-bucket",
    env: "INFLUX_BUCKET",
    fallback: "muster",
    help: "InfluxDB 2.x bucket, or database/retention-policy on 1.8+ (created if missing and allowed)",
  },
  influxToken: {
    flag: "influx-token",
    env: "INFLUX_TOKEN",
    fallback: "",
    help: "InfluxDB 2.x API token, or user:password on 1.8+ (none: no authentication)",
  },
  influxQuery: {
    flag: "influx-query",
    env: "MUSTER_INFLUX_QUERY",
    fallback: "flux",
    help: "query language: flux|influxql (InfluxQL through the v1 /query endpoint)",
  },
  influxRetention: {
    flag: "influx-retention",
    env: "INFLUX_RETENTION",
    fallback: "30d",
    help: "retention of a bucket (1.x: retention policy) muster creates; existing ones keep theirs",
  },
  credentials: {
    flag: "credentials",
    env: "MUSTER_CREDENTIALS",
    fallback: "",
    help: 'credentials file (none: every caller is company/user "default"); SIGHUP re-reads it',
  },
  tokenSecretFile: {
    flag: "token-secret-file",
    env: "MUSTER_TOKEN_SECRET_FILE",
    fallback: "",
    help: "file holding the HS256 key of session tokens (none: a random key per process)",
  },
  queues: {
    flag: "queues",
    env: "MUSTER_QUEUES",
    fallback: "default",
    help: "queues agents may listen to, comma-separated (a company's own list in the credentials wins)",
  },
  allowAnonymous: {
    kind: "switch",
    flag: "allow-anonymous",
    env: "MUSTER_ALLOW_ANONYMOUS",
    fallback: "false",
    help: "serve without --credentials on a non-loopback --listen address",
  },
  statsRetention: {
    flag: "stats-retention",
    env: "MUSTER_STATS_RETENTION",
    fallback: `${DEFAULT_STATS_RETENTION_MS / 3_600_000}h`,
    help: "memory stats store: keep samples this long (e.g. 90m, 12h, 7d)",
  },
  statsMaxSamples: {
    flag: "stats-max-samples",
    env: "MUSTER_STATS_MAX_SAMPLES",
    fallback: String(DEFAULT_STATS_MAX_SAMPLES),
    help: "memory stats store: keep at most this many samples",
  },
  statsMaxSeries: {
    flag: "stats-max-series",
    env: "MUSTER_STATS_MAX_SERIES",
    fallback: String(DEFAULT_STATS_MAX_SERIES),
    help: "memory stats store: keep at most this many series (worker × metric × device)",
  },
  maxBuckets: {
    flag: "max-buckets",
    env: "MUSTER_MAX_BUCKETS",
    fallback: String(DEFAULT_MAX_BUCKETS),
    help: "most buckets one get_stats / get_activity_report answer may have",
  },
  maxConnections: {
    flag: "max-connections",
    env: "MUSTER_MAX_CONNECTIONS",
    fallback: String(DEFAULT_MAX_CONNECTIONS),
    help: "most client connections open at once (lowered to fit ulimit -n)",
  },
  corsOrigins: {
    flag: "cors-origins",
    env: "MUSTER_CORS_ORIGINS",
    fallback: "",
    help: 'origins browsers may call from, comma-separated, or "*" (none: no CORS)',
  },
  metricsListen: {
    flag: "metrics-listen",
    env: "MUSTER_METRICS_LISTEN",
    fallback: "",
    help: "HOST:PORT to serve /metrics on instead of the main port",
  },
  logRequests: {
    flag: "log-requests",
    env: "MUSTER_LOG_REQUESTS",
    fallback: "errors",
    help: "one log line per call: all|errors|none",
  },
  ui: {
    flag: "ui",
    env: "MUSTER_UI",
    fallback: "on",
    help: "serve the dashboard at /: on|off",
  },
  logLevel: {
    flag: "log-level",
    env: "MUSTER_LOG_LEVEL",
    fallback: "info",
    help: "fatal|error|warn|info|debug|trace",
  },
} as const satisfies Record<string, Setting>;

type Name = keyof typeof SETTINGS;

export function usage(): string {
  const lines = Object.values(SETTINGS).map(
    (s: Setting) =>
      `  --${s.flag.padEnd(18)} ${s.env.padEnd(25)} ${s.help} (default: ${s.fallback || "none"})`,
  );
  return `usage: muster [flags]\n  flag                 environment\n${lines.join("\n")}\n  --help               print this text`;
}

/** Reads the configuration from argv and the environment; throws ConfigError naming the flag. */
export function loadConfig(argv: readonly string[], env: NodeJS.ProcessEnv): Config | "help" {
  // InfluxDB 1.x-era setting, gone with the 2.x API: say what replaced it rather than ignore it.
  if (argv.some((a) => a === "--influx-db" || a.startsWith("--influx-db=")) || env.INFLUX_DB) {
    throw new ConfigError(
      "--influx-db/INFLUX_DB is gone: use --influx-bucket/INFLUX_BUCKET (a 2.x bucket, or database/retention-policy on 1.8+)",
    );
  }
  let flags: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(
      Object.values(SETTINGS).map((s: Setting) => [
        s.flag,
        { type: s.kind === "switch" ? ("boolean" as const) : ("string" as const) },
      ]),
    );
    flags = parseArgs({
      args: [...argv],
      options: { ...options, help: { type: "boolean" } },
      strict: true,
    }).values;
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  if (flags.help === true) return "help";

  const value = (name: Name): { text: string; source: string } => {
    const s: Setting = SETTINGS[name];
    const fromFlag = flags[s.flag];
    if (typeof fromFlag === "string") return { text: fromFlag, source: `--${s.flag}` };
    if (fromFlag === true) return { text: "true", source: `--${s.flag}` };
    const fromEnv = env[s.env];
    if (fromEnv !== undefined && fromEnv !== "") return { text: fromEnv, source: s.env };
    return { text: s.fallback, source: `--${s.flag}` };
  };

  const listen = value("listen");
  const { host, port } = parseListen(listen);
  const credentials = value("credentials").text || undefined;
  const allowAnonymous = parseSwitch(value("allowAnonymous"));
  if (credentials === undefined && !allowAnonymous && !isLoopback(host)) {
    throw new ConfigError(
      `${listen.source}: ${host} is not a loopback address: give --credentials FILE, or --allow-anonymous to let anyone who reaches it act as company "default"`,
    );
  }
  return {
    host,
    port,
    presence: oneOf(value("presence"), ["memory", "nats"] as const),
    natsUrls: parseUrls(value("natsUrl"), ["nats:", "tls:", "ws:", "wss:"]),
    natsBucket: bucketName(value("natsBucket")),
    natsReplicas: replicas(value("natsReplicas")),
    stats: oneOf(value("stats"), ["memory", "influx"] as const),
    influxUrl: parseUrl(value("influxUrl"), ["http:", "https:"]),
    influxOrg: nonEmpty(value("influxOrg")),
    influxBucket: influxBucket(value("influxBucket")),
    influxToken: value("influxToken").text,
    influxQuery: oneOf(value("influxQuery"), ["flux", "influxql"] as const),
    influxRetentionMs: atLeastOneHour(value("influxRetention")),
    credentials,
    tokenSecretFile: value("tokenSecretFile").text || undefined,
    queues: parseQueues(value("queues")),
    allowAnonymous,
    statsRetentionMs: parseDuration(value("statsRetention")),
    statsMaxSamples: positiveInteger(value("statsMaxSamples")),
    statsMaxSeries: positiveInteger(value("statsMaxSeries")),
    maxBuckets: positiveInteger(value("maxBuckets")),
    maxConnections: positiveInteger(value("maxConnections")),
    corsOrigins: parseOrigins(value("corsOrigins")),
    metricsListen:
      value("metricsListen").text === "" ? undefined : parseListen(value("metricsListen")),
    logRequests: oneOf(value("logRequests"), ["all", "errors", "none"] as const),
    ui: oneOf(value("ui"), ["on", "off"] as const) === "on",
    logLevel: oneOf(value("logLevel"), [
      "fatal",
      "error",
      "warn",
      "info",
      "debug",
      "trace",
    ] as const),
  };
}

type Value = { text: string; source: string };

/** Loopback only: 127.0.0.0/8, ::1 and localhost (an IPv4-mapped loopback counts too). */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^::ffff:/, "");
  return h === "localhost" || h === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function parseSwitch({ text, source }: Value): boolean {
  const t = text.toLowerCase();
  if (["true", "1", "yes"].includes(t)) return true;
  if (["false", "0", "no", ""].includes(t)) return false;
  throw new ConfigError(`${source}: expected true or false, got "${text}"`);
}

/** Queue names as the credentials file bounds them: 1 to 256 characters, no repeats. */
function parseQueues({ text, source }: Value): string[] {
  const names = text
    .split(",")
    .map((q) => q.trim())
    .filter((q) => q !== "");
  for (const name of names) {
    if (name.length > 256) throw new ConfigError(`${source}: queue name over 256 characters`);
  }
  if (new Set(names).size !== names.length) {
    throw new ConfigError(`${source}: a queue is named twice in "${text}"`);
  }
  return names;
}

function parseListen({ text, source }: Value): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(text);
  const port = Number(match?.[3]);
  if (match === null || !Number.isInteger(port) || port > 65535) {
    throw new ConfigError(
      `${source}: expected HOST:PORT (e.g. 127.0.0.1:8008 or [::1]:8008), got "${text}"`,
    );
  }
  return { host: (match[1] ?? match[2]) as string, port };
}

function oneOf<T extends string>({ text, source }: Value, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new ConfigError(`${source}: expected one of ${choices.join(", ")}, got "${text}"`);
  }
  return text as T;
}

function parseUrl({ text, source }: Value, protocols: readonly string[]): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`${source}: not a URL: "${text}"`);
  }
  if (!protocols.includes(url.protocol)) {
    throw new ConfigError(`${source}: expected a ${protocols.join(" or ")} URL, got "${text}"`);
  }
  return text;
}

/** One URL or several, comma-separated (a cluster's seed servers); each must be valid. */
function parseUrls({ text, source }: Value, protocols: readonly string[]): string[] {
  const urls = text
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u !== "");
  if (urls.length === 0)
    throw new ConfigError(`${source}: expected at least one URL, got "${text}"`);
  return urls.map((url) => parseUrl({ text: url, source }, protocols));
}

/** JetStream allows 1 to 5 replicas of a stream. */
function replicas(value: Value): number {
  const n = positiveInteger(value);
  if (n > 5) throw new ConfigError(`${value.source}: expected 1 to 5, got "${value.text}"`);
  return n;
}

/** JetStream names the bucket's stream KV_<bucket>; NATS allows only these characters in it. */
function bucketName({ text, source }: Value): string {
  if (!/^[-\w]+$/.test(text)) {
    throw new ConfigError(`${source}: expected letters, digits, "-" and "_" only, got "${text}"`);
  }
  return text;
}

function nonEmpty({ text, source }: Value): string {
  if (text.trim() === "") throw new ConfigError(`${source}: must not be empty`);
  return text;
}

/** A 2.x bucket name, or `database/retention-policy` (both parts non-empty). */
function influxBucket({ text, source }: Value): string {
  const parts = text.split("/");
  if (parts.length > 2 || parts.some((p) => p.trim() === "")) {
    throw new ConfigError(
      `${source}: expected a bucket name or database/retention-policy, got "${text}"`,
    );
  }
  return text;
}

function positiveInteger({ text, source }: Value): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1) {
    throw new ConfigError(`${source}: expected a positive integer, got "${text}"`);
  }
  return n;
}

/** InfluxDB refuses retention policies under an hour. */
function atLeastOneHour(value: Value): number {
  const ms = parseDuration(value);
  if (ms < 3_600_000) {
    throw new ConfigError(`${value.source}: must be at least 1h, got "${value.text}"`);
  }
  return ms;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

function parseDuration({ text, source }: Value): number {
  const match = /^(\d+)([smhd])$/.exec(text);
  if (match === null)
    throw new ConfigError(`${source}: expected a duration such as 90m, 12h or 7d, got "${text}"`);
  const ms = Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  if (ms <= 0) throw new ConfigError(`${source}: must be longer than 0, got "${text}"`);
  return ms;
}

function parseOrigins({ text, source }: Value): string[] {
  const origins = text
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const origin of origins) {
    if (origin === "*") continue;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      url = undefined;
    }
    if (url === undefined || url.origin !== origin) {
      throw new ConfigError(`${source}: "${origin}" is not an origin like https://ui.example.com`);
    }
  }
  return origins;
}
