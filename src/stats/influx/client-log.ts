/**
 * Sends @influxdata/influxdb-client's own log lines to pino. The client warns of every failed
 * write attempt, even one its retry then gets through, and logs an error when it gives a batch up;
 * muster reports the outcome to the caller (UNAVAILABLE), so the attempts go out at debug and the
 * client's errors and other warnings at warn. The client has one logger per process.
 */
import { setLogger } from "@influxdata/influxdb-client";
import type { Logger } from "pino";

export function routeClientLog(log: Logger): void {
  setLogger({
    error: (message, error) => log.warn({ err: error }, `influxdb-client: ${message}`),
    warn: (message, error) => {
      const attempt = message.startsWith("Write to InfluxDB failed (attempt");
      (attempt ? log.debug : log.warn).call(log, { err: error }, `influxdb-client: ${message}`);
    },
  });
}
