/**
 * --metrics-listen: /metrics on a port of its own, for operators who keep scrapes off the port
 * clients use (or bind it to another interface).
 */
import * as http from "node:http";
import type * as net from "node:net";
import { sendMetrics } from "./http-endpoints.js";
import type { MusterMetrics } from "./metrics.js";

export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

export async function startMetricsServer(
  host: string,
  port: number,
  metrics: MusterMetrics,
): Promise<MetricsServer> {
  const server = http.createServer((req, res) => {
    if ((req.url ?? "").split("?", 1)[0] === "/metrics" && req.method === "GET") {
      sendMetrics(res, metrics).catch(() => res.destroy());
      return;
    }
    res.statusCode = 404;
    res.end("not found: this port serves GET /metrics\n");
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  const shown = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
