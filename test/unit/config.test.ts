import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";

describe("configuration", () => {
  it("defaults to the embedded stores on 127.0.0.1:8008", () => {
    expect(loadConfig([], {})).toMatchObject({
      host: "127.0.0.1",
      port: 8008,
      presence: "memory",
      stats: "memory",
      natsUrls: ["nats://127.0.0.1:4222"],
      natsReplicas: 1,
      statsMaxSeries: 100_000,
      influxUrl: "http://127.0.0.1:8086",
      influxOrg: "muster",
      influxBucket: "muster",
      influxToken: "",
      influxQuery: "flux",
      maxBuckets: 10_000,
      maxConnections: 10_000,
    });
  });

  it("takes a flag over the environment over the default", () => {
    const env = { MUSTER_LISTEN: "0.0.0.0:9000", MUSTER_PRESENCE: "nats", INFLUX_BUCKET: "fleet" };
    expect(loadConfig(["--listen", "[::1]:18008"], env)).toMatchObject({
      host: "::1",
      port: 18008,
      presence: "nats",
      influxBucket: "fleet",
    });
  });

  it.each([
    [["--listen", "8008"], "--listen"],
    [["--listen", "host:99999"], "--listen"],
    [["--presence", "redis"], "--presence"],
    [["--nats-url", "http://x"], "--nats-url"],
    [["--nats-url", "nats://a:4222,http://b"], "--nats-url"],
    [["--nats-url", " , "], "--nats-url"],
    [["--nats-replicas", "0"], "--nats-replicas"],
    [["--nats-replicas", "7"], "--nats-replicas"],
    [["--stats-max-series", "1.5"], "--stats-max-series"],
    [["--influx-url", "not a url"], "--influx-url"],
    [["--influx-query", "sql"], "--influx-query"],
    [["--influx-bucket", "db/rp/x"], "--influx-bucket"],
    [["--influx-org", " "], "--influx-org"],
    [["--influx-db", "x"], "--influx-db"],
    [["--stats-retention", "7 days"], "--stats-retention"],
    [["--stats-max-samples", "-1"], "--stats-max-samples"],
    [["--max-buckets", "0"], "--max-buckets"],
    [["--max-connections", "none"], "--max-connections"],
    [["--cors-origins", "https://ui.example.com/path"], "--cors-origins"],
    [["--bogus", "1"], "--bogus"],
  ])("refuses %j with a message naming %s", (argv, flag) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(flag);
  });

  it("reads several NATS seed servers and a replica count, from flags or the environment", () => {
    const seeds = "nats://10.0.0.1:4222, nats://10.0.0.2:4222,nats://10.0.0.3:4222";
    expect(loadConfig(["--nats-url", seeds, "--nats-replicas", "3"], {})).toMatchObject({
      natsUrls: ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222", "nats://10.0.0.3:4222"],
      natsReplicas: 3,
    });
    expect(loadConfig([], { NATS_URL: "nats://a:1,nats://b:2", NATS_REPLICAS: "5" })).toMatchObject(
      { natsUrls: ["nats://a:1", "nats://b:2"], natsReplicas: 5 },
    );
  });

  it("reads CORS origins as a list, none by default", () => {
    const origins = (argv: string[], env: Record<string, string> = {}) => {
      const config = loadConfig(argv, env);
      if (config === "help") throw new Error("unexpected --help");
      return config.corsOrigins;
    };
    expect(origins([])).toEqual([]);
    expect(origins(["--cors-origins", "https://a.example, http://b.example:3000"])).toEqual([
      "https://a.example",
      "http://b.example:3000",
    ]);
    expect(origins([], { MUSTER_CORS_ORIGINS: "*" })).toEqual(["*"]);
  });

  it("serves the dashboard unless --ui off or MUSTER_UI=off", () => {
    const ui = (argv: string[], env: Record<string, string> = {}) => {
      const config = loadConfig(argv, env);
      if (config === "help") throw new Error("unexpected --help");
      return config.ui;
    };
    expect(ui([])).toBe(true);
    expect(ui(["--ui", "off"])).toBe(false);
    expect(ui([], { MUSTER_UI: "off" })).toBe(false);
    expect(ui(["--ui", "on"], { MUSTER_UI: "off" })).toBe(true);
    expect(() => ui(["--ui", "maybe"])).toThrow("--ui: expected one of on, off");
  });

  it("names the environment variable when the bad value came from there", () => {
    expect(() => loadConfig([], { MUSTER_STATS: "sqlite" })).toThrow("MUSTER_STATS");
  });

  it("reads the auth settings: credentials, token secret file, queues, allow-anonymous", () => {
    expect(loadConfig([], {})).toMatchObject({
      credentials: undefined,
      tokenSecretFile: undefined,
      queues: ["default"],
      allowAnonymous: false,
    });
    expect(
      loadConfig(["--credentials", "c.json", "--queues", "default, gpu"], {
        MUSTER_TOKEN_SECRET_FILE: "s.key",
      }),
    ).toMatchObject({
      credentials: "c.json",
      tokenSecretFile: "s.key",
      queues: ["default", "gpu"],
    });
    expect(loadConfig(["--allow-anonymous"], {})).toMatchObject({ allowAnonymous: true });
    expect(loadConfig([], { MUSTER_ALLOW_ANONYMOUS: "1" })).toMatchObject({ allowAnonymous: true });
    expect(() => loadConfig([], { MUSTER_ALLOW_ANONYMOUS: "maybe" })).toThrow(
      "MUSTER_ALLOW_ANONYMOUS",
    );
    expect(() => loadConfig(["--queues", "a,b,a"], {})).toThrow("--queues");
  });

  it.each([
    ["127.0.0.1:8008", true],
    ["127.1.2.3:8008", true],
    ["[::1]:8008", true],
    ["localhost:8008", true],
    ["0.0.0.0:8008", false],
    ["[::]:8008", false],
    ["10.0.0.5:8008", false],
  ])("--listen %s without --credentials starts: %s", (listen, starts) => {
    const load = () => loadConfig(["--listen", listen], {});
    if (starts) expect(load()).toMatchObject({ port: 8008 });
    else expect(load).toThrow(/--listen: .* is not a loopback address/);
    // Either credentials or --allow-anonymous lets it listen anywhere.
    expect(loadConfig(["--listen", listen, "--credentials", "c.json"], {})).toMatchObject({
      port: 8008,
    });
    expect(loadConfig(["--listen", listen, "--allow-anonymous"], {})).toMatchObject({
      allowAnonymous: true,
    });
  });
});
