/**
 * Building InfluxQL safely. Values never go into the query text: they are bound parameters
 * (`$p0`, sent as JSON in /query's `params`, which InfluxDB substitutes after parsing, so no value
 * can change the statement). Identifiers (database, retention policy, measurement, tag and field
 * names) cannot be bound; they are quoted.
 */

/**
 * A double-quoted identifier. InfluxQL's scanner knows the escapes \\ \" \' \n only, and turns a
 * carriage return into a newline, so CR and NUL (its end-of-input marker) cannot be quoted.
 */
export function quoteIdent(name: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is exactly what is refused
  if (/[\r\u0000]/.test(name)) {
    throw new Error(`InfluxQL: ${JSON.stringify(name)} has a character no identifier can carry`);
  }
  return `"${name.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`))}"`;
}

/** Bound parameters of one query, named $p0, $p1, … in the order bound. */
export class Params {
  private readonly values: Record<string, string> = {};
  private count = 0;

  /** Binds a string value; returns the placeholder to put in the query. */
  bind(value: string): string {
    const name = `p${this.count++}`;
    this.values[name] = value;
    return `$${name}`;
  }

  /** The `params` form value of /query. */
  toJSON(): Record<string, string> {
    return this.values;
  }
}

/** `("tag" = $p0 OR "tag" = $p1 …)` for a non-empty list of values. */
export function equalsAny(column: string, values: readonly string[], params: Params): string {
  if (values.length === 0) throw new Error("InfluxQL: equalsAny needs at least one value");
  const column_ = quoteIdent(column);
  return `(${values.map((v) => `${column_} = ${params.bind(v)}`).join(" OR ")})`;
}

/** An epoch time for a WHERE clause: an integer of nanoseconds (exact, unlike a float of ms). */
export function timeLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms)) throw new Error(`InfluxQL: ${ms} ms is not an integer time`);
  return (BigInt(ms) * 1_000_000n).toString();
}

/** A duration literal for GROUP BY time() and retention policies, in the largest exact unit. */
export function durationLiteral(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`InfluxQL: bad duration ${ms} ms`);
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The v1 names of a bucket: `database/retention-policy` (the 1.x form, which 2.x's v1 endpoints
 * also map), or a 2.x bucket name alone, which 2.x serves as the database of that name under its
 * default policy (its automatic DBRP mapping).
 */
export function v1NamesOf(bucket: string): { database: string; retentionPolicy?: string } {
  const slash = bucket.indexOf("/");
  if (slash < 0) return { database: bucket };
  return { database: bucket.slice(0, slash), retentionPolicy: bucket.slice(slash + 1) };
}
