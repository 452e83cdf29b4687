import pino, { type Logger } from "pino";

/** JSON lines on stderr, so stdout stays free for anything a wrapper wants to print. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: "muster" } }, pino.destination(2));
}
