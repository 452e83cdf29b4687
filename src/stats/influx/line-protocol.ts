/**
 * InfluxDB line protocol, as /write of InfluxDB 1.x (and the v1 endpoints of 2.x/3.x) reads it:
 * escaping of names and tag values, and an encoding for what a tag value cannot carry at all.
 */

/**
 * Line protocol has no escape for a newline in a tag value, and 1.x reads a backslash before the
 * `,`/` `/`=` that ends a value as an escape (so `a\` cannot be written). Tag values therefore
 * have `%`, `\` and control characters percent-encoded (`%25`, `%5C`, `%0A`, …) before escaping;
 * everything else, unicode included, is stored as sent. The encoding is reversible because `%`
 * itself is encoded, and queries compare against the encoded form.
 */
export function encodeTagValue(value: string): string {
  if (value === "") throw new Error("line protocol: a tag value cannot be empty");
  let out = "";
  let from = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code === 0x25 || code === 0x5c || code < 0x20 || code === 0x7f) {
      out += `${value.slice(from, i)}%${code.toString(16).toUpperCase().padStart(2, "0")}`;
      from = i + 1;
    }
  }
  return from === 0 ? value : out + value.slice(from);
}

/** The value a stored (encoded) tag value was made from. */
export function decodeTagValue(stored: string): string {
  return stored.replace(/%([0-9A-F]{2})/g, (_, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

/** Tag keys, tag values and field keys: commas, spaces and equals signs are escaped. */
export function escapeKey(text: string): string {
  return text.replace(/[, =]/g, (c) => `\\${c}`);
}

/** Measurement names: commas and spaces are escaped (an escaped `=` would stay escaped). */
export function escapeMeasurement(text: string): string {
  return text.replace(/[, ]/g, (c) => `\\${c}`);
}

/** A tag value as it goes on the wire: encoded, then escaped. */
export function tagValue(value: string): string {
  return escapeKey(encodeTagValue(value));
}

/** A float field value. NaN and ±Infinity have no line-protocol form: callers leave them out. */
export function floatValue(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`line protocol: ${value} is not a finite number`);
  // Without a suffix InfluxDB reads a float; exponent notation (1e+21) is accepted.
  return String(value);
}

/** An integer field value (the `i` suffix; a bare number would be a float). */
export function integerValue(value: number): string {
  if (!Number.isSafeInteger(value)) throw new Error(`line protocol: ${value} is not an integer`);
  return `${value}i`;
}

/**
 * One point: `measurement,tag=value,… field=value,… time`. Tags should come sorted by key (what
 * InfluxDB would otherwise do on every write); values are raw strings, encoded here. Fields come
 * formatted (floatValue, integerValue). The time is in the precision the write names.
 */
export function point(
  measurement: string,
  tags: readonly (readonly [string, string])[],
  fields: readonly (readonly [string, string])[],
  time: number,
): string {
  let line = escapeMeasurement(measurement);
  for (const [key, value] of tags) line += `,${escapeKey(key)}=${tagValue(value)}`;
  line += " ";
  line += fields.map(([key, value]) => `${escapeKey(key)}=${value}`).join(",");
  return `${line} ${Math.trunc(time)}`;
}
