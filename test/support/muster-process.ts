// muster as an operator runs it (the compiled dist/main.js, here built into a cache directory),
// for tests that must kill it (SIGKILL) or read its log lines.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;

/** Compiles src into a fresh directory inside the checkout (so it resolves node_modules). */
export async function buildMuster(): Promise<{ main: string; remove(): Promise<void> }> {
  await mkdir(join(ROOT, "node_modules/.cache"), { recursive: true });
  const outDir = await mkdtemp(join(ROOT, "node_modules/.cache/muster-build-"));
  await run(
    join(ROOT, "node_modules/.bin/tsc"),
    ["-p", "tsconfig.build.json", "--outDir", outDir],
    { cwd: ROOT },
  );
  return {
    main: join(outDir, "main.js"),
    remove: () => rm(outDir, { recursive: true, force: true }),
  };
}

export interface MusterProcess {
  readonly url: string;
  /** Everything it logged on stderr so far. */
  log(): string;
  /** SIGKILL: no shutdown, as a crash. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts muster on a free loopback port with these flags; resolves once it listens. */
export async function startMusterProcess(
  main: string,
  flags: readonly string[],
): Promise<MusterProcess> {
  const child = spawn(
    process.execPath,
    [main, "--listen", "127.0.0.1:0", "--ui", "off", ...flags],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  let stderr = "";
  const port = await new Promise<number>((resolve, reject) => {
    child.stderr?.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
      if (match) resolve(Number(match[1]));
    });
    child.once("exit", (code) => reject(new Error(`muster exited with ${code}: ${stderr}`)));
  });
  const signal = async (name: NodeJS.Signals) => {
    if (exited(child)) return;
    const done = new Promise((resolve) => child.once("exit", resolve));
    child.kill(name);
    await done;
  };
  return {
    url: `http://127.0.0.1:${port}`,
    log: () => stderr,
    kill: () => signal("SIGKILL"),
    stop: () => signal("SIGTERM"),
  };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}
