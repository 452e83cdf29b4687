import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A stand-in for an InfluxDB that cannot run Flux, the one place the InfluxDB tests use one: no
 * such server can be installed here (the built influxd 2.7 always runs Flux, and no 1.x is
 * available). It answers what muster's startup asks before the Flux check as the real server
 * would, and /api/v2/query exactly as InfluxDB 1.x without `[http] flux-enabled = true` does
 * (services/httpd/handler.go: 403, text/plain, the message below).
 *
 * - `1.8.10`: /ping with that version, and v1 /query answering CREATE DATABASE / RETENTION
 *   POLICY with an empty result, as 1.x does for statements that succeed;
 * - `v2.7.12`: /ping and /health, and /api/v2/buckets listing the bucket asked for.
 */
export async function startFluxLessInflux(version: "1.8.10" | "v2.7.12"): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const server: Server = createServer((request, response) => {
    const path = new URL(request.url ?? "/", "http://x").pathname;
    request.resume();
    request.on("end", () => {
      response.setHeader("x-influxdb-version", version);
      if (path === "/ping") {
        response.writeHead(204).end();
      } else if (path === "/health") {
        response
          .writeHead(200, { "content-type": "application/json; charset=utf-8" })
          .end(JSON.stringify({ name: "influxdb", status: "pass", version }));
      } else if (path === "/query" && version.startsWith("1.")) {
        response
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ results: [{ statement_id: 0 }] }));
      } else if (path === "/api/v2/buckets" && version.startsWith("v2.")) {
        const name = new URL(request.url ?? "/", "http://x").searchParams.get("name");
        response
          .writeHead(200, { "content-type": "application/json; charset=utf-8" })
          .end(JSON.stringify({ buckets: [{ id: "0000000000000001", name }] }));
      } else if (path === "/api/v2/query") {
        response
          .writeHead(403, { "content-type": "text/plain; charset=utf-8" })
          .end(
            "Flux query service disabled. Verify flux-enabled=true in the [http] section of the InfluxDB config.\n",
          );
      } else {
        response.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      ),
  };
}
