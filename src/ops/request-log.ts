/**
 * One log line per call (--log-requests): what was called, how it ended, by whom and for which
 * worker. Built only from the CallRecord, which holds no header, body or credential, so no secret
 * can reach the log. "errors" (the default) keeps a fleet of thousands of reporting daemons from
 * drowning the log in successes.
 */
import type { Logger } from "pino";
import type { CallRecord } from "./metrics.js";

export type RequestLogMode = "all" | "errors" | "none";

export function requestLogger(log: Logger, mode: RequestLogMode): (record: CallRecord) => void {
  if (mode === "none") return () => undefined;
  return (record) => {
    if (mode === "errors" && record.ok) return;
    const fields: Record<string, string | number> = {
      protocol: record.protocol,
      method: record.method,
      code: record.code,
      subcode: record.subcode,
      durationMs: Math.round(record.durationMs * 1000) / 1000,
    };
    if (record.company !== undefined) fields.company = record.company;
    if (record.worker !== undefined) fields.worker = record.worker;
    if (record.clientIp !== undefined) fields.clientIp = record.clientIp;
    if (record.trx !== undefined) fields.trx = record.trx;
    log.info(fields, `${record.protocol} ${record.method} ${record.code}`);
  };
}
