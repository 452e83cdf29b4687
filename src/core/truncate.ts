/**
 * Client input echoed in error messages is cut short: a message may travel in a gRPC trailer
 * (grpc-message) where a long one breaks the stream, and logs should not grow with the input.
 */
export const MAX_ECHOED_CHARS = 200;

/** The text itself when short, else its first MAX_ECHOED_CHARS characters and "…". */
export function truncateForMessage(text: string, max: number = MAX_ECHOED_CHARS): string {
  if (text.length <= max) return text;
  // Do not split a surrogate pair.
  const end = isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
  return `${text.slice(0, end)}… (${text.length} characters)`;
}

/** JSON.stringify(value), truncated: for quoting client values in messages. */
export function quoteForMessage(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return truncateForMessage(text);
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}
