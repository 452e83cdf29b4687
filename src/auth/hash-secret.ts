/**
 * `muster hash-secret`: prints the `secret_sha256` of a secret read from standard input, so a
 * credentials file need not hold secrets and the secret never appears in a command line or the
 * shell's history. Example: `printf %s "$SECRET" | muster hash-secret`.
 */
import { text } from "node:stream/consumers";
import { sha256 } from "./credentials.js";

/** The hex SHA-256 of one secret given as text; one trailing newline (an `echo`'s) is not part of it. */
export function hashSecret(input: string): string {
  const secret = input.replace(/\r?\n$/, "");
  if (secret === "") throw new Error("no secret on standard input");
  if (/[\r\n]/.test(secret)) throw new Error("one secret per call: the input has several lines");
  return sha256(secret).toString("hex");
}

/** Runs the subcommand; returns the process exit code. */
export async function runHashSecret(
  stdin: NodeJS.ReadableStream,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  try {
    stdout.write(`${hashSecret(await text(stdin))}\n`);
    return 0;
  } catch (error) {
    stderr.write(`muster hash-secret: ${error instanceof Error ? error.message : error}\n`);
    return 2;
  }
}
