import type { InfluxHttp } from "./influx-http.js";
import { RETENTION_POLICY } from "./influx-schema.js";
import { durationLiteral, parseGoDuration, quoteIdent } from "./influxql.js";

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * InfluxDB's own choice of shard group duration for a retention (1 h under 2 days, 1 day up to
 * 6 months, 7 days beyond), stated explicitly so that shortening the retention later never
 * leaves it shorter than its shards, which InfluxDB refuses.
 */
export function shardDurationMs(retentionMs: number): number {
  if (retentionMs < 2 * DAY) return HOUR;
  if (retentionMs <= 180 * DAY) return DAY;
  return 7 * DAY;
}

/**
 * Creates the database and muster's retention policy when missing, and brings the policy's
 * duration to the configured one when it differs (the configuration is the source of truth).
 * Every statement is idempotent, so muster instances may start side by side.
 */
export async function ensureDatabase(http: InfluxHttp, retentionMs: number): Promise<void> {
  if (retentionMs < HOUR) {
    throw new Error(`InfluxDB keeps data at least 1h; the retention asked is ${retentionMs} ms`);
  }
  const db = quoteIdent(http.database);
  const rp = quoteIdent(RETENTION_POLICY);
  const duration = durationLiteral(retentionMs);
  const shards = durationLiteral(shardDurationMs(retentionMs));
  await http.query(`CREATE DATABASE ${db}`);
  const [result] = await http.query(`SHOW RETENTION POLICIES ON ${db}`);
  const series = result?.series?.[0];
  const nameColumn = series?.columns.indexOf("name") ?? -1;
  const durationColumn = series?.columns.indexOf("duration") ?? -1;
  const row = series?.values.find((r) => r[nameColumn] === RETENTION_POLICY);
  if (row === undefined) {
    await http.query(
      `CREATE RETENTION POLICY ${rp} ON ${db} DURATION ${duration} REPLICATION 1 SHARD DURATION ${shards}`,
    );
  } else if (parseGoDuration(String(row[durationColumn])) !== retentionMs) {
    await http.query(
      `ALTER RETENTION POLICY ${rp} ON ${db} DURATION ${duration} SHARD DURATION ${shards}`,
    );
  }
}
