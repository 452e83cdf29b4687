/**
 * Sends @influxdata/influxdb-client's own log lines to pino. The client reports each failed write
 * attempt as an error, even one its retry then gets through; muster reports the outcome (a caller
 * gets UNAVAILABLE), so those go out at debug, and the client's warnings at warn.
 */
import { setLogger } from "@influxdata/influxdb-client";
import type { Logger } from "pino";

export function routeClientLog(log: Logger): void {
  setLogger({
    error: (message, error) => log.debug({ err: error }, `influxdb-client: ${message}`),
    warn: (message, error) => log.warn({ err: error }, `influxdb-client: ${message}`),
  });
}
