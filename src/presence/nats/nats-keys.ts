import type { WorkerKey } from "../../core/presence-store.js";

/**
 * KV keys for workers: `<company>.<user>.<worker>`, each part the unpadded base64url of its UTF-8
 * bytes. ClearML worker ids hold characters NATS keys forbid (`:`, `,`, spaces, `*`, `>`,
 * unicode); base64url uses only letters, digits, `-` and `_`, so every part is a legal token, no
 * part can contain the `.` separator, and distinct ids give distinct keys. An empty part, which
 * base64 would turn into an empty (illegal) token, is written `=`, a character base64url never
 * uses.
 */
const EMPTY = "=";

/** Base64url without padding never has a length of 1 mod 4; anything else is not ours. */
const TOKEN = /^[A-Za-z0-9_-]+$/;

export function encodeToken(part: string): string {
  if (part === "") return EMPTY;
  return Buffer.from(part, "utf8").toString("base64url");
}

/** The part a token encodes, or undefined when the token is not one `encodeToken` makes. */
export function decodeToken(token: string): string | undefined {
  if (token === EMPTY) return "";
  if (!TOKEN.test(token) || token.length % 4 === 1) return undefined;
  const bytes = Buffer.from(token, "base64url");
  const part = bytes.toString("utf8");
  // Reject tokens that are not the canonical encoding of valid UTF-8 (stray bits, bad bytes).
  return encodeToken(part) === token ? part : undefined;
}

export function encodeKey(key: WorkerKey): string {
  return `${encodeToken(key.company)}.${encodeToken(key.user)}.${encodeToken(key.worker)}`;
}

/** The inverse of encodeKey; the store never decodes, tests use it to prove keys round-trip. */
export function decodeKey(encoded: string): WorkerKey | undefined {
  const tokens = encoded.split(".");
  if (tokens.length !== 3) return undefined;
  const [company, user, worker] = tokens.map(decodeToken);
  if (company === undefined || user === undefined || worker === undefined) return undefined;
  return { company, user, worker };
}

/** The company's token, the first part of each of its keys. */
export function companyToken(company: string): string {
  return encodeToken(company);
}
