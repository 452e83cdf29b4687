#!/usr/bin/env node
// First: its settings must be in place before the rest of muster loads and allocates.
import "./v8-settings.js";
import { runHashSecret } from "./auth/hash-secret.js";
import { ConfigError, loadConfig, usage } from "./config.js";
import { createLogger } from "./log.js";
import { startMuster } from "./start.js";

async function main(): Promise<void> {
  if (process.argv[2] === "hash-secret") {
    process.exitCode = await runHashSecret(process.stdin, process.stdout, process.stderr);
    return;
  }
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`muster: ${error.message}\n`);
      process.exit(2);
    }
    throw error;
  }
  if (config === "help") {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const log = createLogger(config.logLevel);
  let muster: Awaited<ReturnType<typeof startMuster>>;
  try {
    muster = await startMuster(config, log);
  } catch (error) {
    // Startup failures (port taken, store unreachable) are the operator's to fix: one clear line.
    process.stderr.write(`muster: cannot start: ${(error as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping");
    muster.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log.error({ err: error }, "error while stopping");
        process.exit(1);
      },
    );
  };
  // SIGHUP re-reads the credentials file; a bad file keeps the credentials in force.
  process.on("SIGHUP", () => {
    muster
      .reloadCredentials()
      .catch((error: unknown) => log.error({ err: error }, "credentials reload failed"));
  });
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

void main();
