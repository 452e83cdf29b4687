/**
 * The token signing key: read from `--token-secret-file` so several instances (or a ClearML server
 * with the same `secure.auth.token_secret`) accept each other's tokens, else random per process.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";

/** Shorter keys make HS256 tokens guessable offline. */
export const MIN_SECRET_BYTES = 16;

export class TokenSecretError extends Error {
  override readonly name = "TokenSecretError";
}

/**
 * The key in a file: its text without the surrounding whitespace (a trailing newline is an
 * editor's, not the key's), as UTF-8 bytes, which is how the ClearML server's PyJWT uses its
 * string secret.
 */
export async function readTokenSecret(path: string): Promise<Uint8Array> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new TokenSecretError(`token secret file ${path}: ${reason}`);
  }
  return parseTokenSecret(text, path);
}

export function parseTokenSecret(text: string, source: string): Uint8Array {
  const bytes = Buffer.from(text.trim(), "utf8");
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new TokenSecretError(
      `token secret file ${source}: the secret must be at least ${MIN_SECRET_BYTES} bytes, it has ${bytes.length}`,
    );
  }
  return new Uint8Array(bytes);
}

/** A key for this process alone: its tokens die with it (clients log in again on the 401). */
export function randomTokenSecret(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}
