import pino, { type Logger } from "pino";

/** JSON lines on stderr, so stdout stays free for anything a wrapper wants to print. */
export function createLogger(level: string): Logger {
  // Synchronous: muster logs little, and a line written just before exit must not be lost.
  return pino({ level, base: { service: "muster" } }, pino.destination({ dest: 2, sync: true }));
}
