/** The operator settings: --metrics-listen and --log-requests, with their environment variables. */
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../../src/config.js";
import { isPublicPath } from "../../src/core/public-endpoints.js";

describe("operator configuration", () => {
  it("serves metrics on the main port and logs failed calls by default", () => {
    expect(loadConfig([], {})).toMatchObject({ metricsListen: undefined, logRequests: "errors" });
  });

  it("reads --metrics-listen and --log-requests, flag over environment", () => {
    const env = { MUSTER_METRICS_LISTEN: "0.0.0.0:9100", MUSTER_LOG_REQUESTS: "none" };
    expect(loadConfig([], env)).toMatchObject({
      metricsListen: { host: "0.0.0.0", port: 9100 },
      logRequests: "none",
    });
    expect(
      loadConfig(["--metrics-listen", "[::1]:9101", "--log-requests", "all"], env),
    ).toMatchObject({ metricsListen: { host: "::1", port: 9101 }, logRequests: "all" });
  });

  it.each([
    [["--metrics-listen", "9100"], "--metrics-listen"],
    [["--log-requests", "some"], "--log-requests"],
  ])("refuses %j with a message naming %s", (argv, flag) => {
    expect(() => loadConfig(argv, {})).toThrow(ConfigError);
    expect(() => loadConfig(argv, {})).toThrow(flag);
  });
});

describe("public paths", () => {
  it("lists the probes, metrics, the API document and the health service, nothing else", () => {
    for (const path of ["/healthz", "/readyz?x=1", "/metrics", "/openapi.json"]) {
      expect(isPublicPath(path)).toBe(true);
    }
    expect(isPublicPath("/grpc.health.v1.Health/Check")).toBe(true);
    expect(isPublicPath("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")).toBe(true);
    expect(isPublicPath("/muster.workers.v1.WorkersService/GetAll")).toBe(false);
    expect(isPublicPath("/workers.get_all")).toBe(false);
    expect(isPublicPath("/healthz/../workers.get_all")).toBe(false);
  });
});
