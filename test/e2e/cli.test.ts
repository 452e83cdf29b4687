import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clearml } from "../support/clearml.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;

/** The command line as an operator runs it: the compiled dist/main.js on this Node. */
describe("muster command line", () => {
  let outDir: string;
  let main: string;
  beforeAll(async () => {
    // Inside the checkout, so the compiled code resolves the project's node_modules.
    await mkdir(join(ROOT, "node_modules/.cache"), { recursive: true });
    outDir = await mkdtemp(join(ROOT, "node_modules/.cache/muster-cli-"));
    await run(
      join(ROOT, "node_modules/.bin/tsc"),
      ["-p", "tsconfig.build.json", "--outDir", outDir],
      { cwd: ROOT },
    );
    main = join(outDir, "main.js");
  }, 120_000);
  afterAll(async () => {
    await rm(outDir, { recursive: true, force: true });
  });

  const muster = (args: string[], env: Record<string, string> = {}) =>
    run(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? "", ...env } }).then(
      (r) => ({ code: 0, ...r }),
      (e: { code: number; stdout: string; stderr: string }) => e,
    );

  it.each([
    [["--listen", "nowhere"], "--listen"],
    [["--presence", "redis"], "--presence"],
    [["--max-buckets", "lots"], "--max-buckets"],
  ])("refuses %j with exit code 2 and one line naming %s", async (args, flag) => {
    const { code, stderr } = await muster(args);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toContain(flag);
  });

  it("names the environment variable a bad value came from", async () => {
    const { code, stderr } = await muster([], { MUSTER_STATS: "sqlite" });
    expect(code).toBe(2);
    expect(stderr).toContain("MUSTER_STATS");
  });

  it("fails to start with one clear line when the port is taken", async () => {
    const first = await startMuster();
    try {
      const { code, stderr } = await muster(["--listen", `127.0.0.1:${first.port}`]);
      expect(code).toBe(1);
      // Logs may come first; the error is one plain line, not a stack trace.
      expect(stderr.trim().split("\n").at(-1)).toMatch(/^muster: cannot start: .*EADDRINUSE/);
      expect(stderr).not.toMatch(/^\s+at /m);
    } finally {
      first.child.kill("SIGTERM");
    }
  });

  it("serves the ClearML API with the embedded stores and stops on SIGTERM", async () => {
    const { child, port, logs } = await startMuster();
    const res = await clearml(`http://127.0.0.1:${port}`, "/v2.23/workers.get_count", {});
    expect(res.body.data).toEqual({ count: 0 });
    expect(logs()).toContain("stats: in memory");
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    expect(await exit).toBe(0);
  });

  /** Starts muster on a free port (it prints the URL it listens on) and waits for it. */
  async function startMuster(): Promise<{ child: ChildProcess; port: number; logs: () => string }> {
    const child = spawn(process.execPath, [main, "--listen", "127.0.0.1:0"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`muster exited with ${code}: ${stderr}`)));
    });
    return { child, port, logs: () => stderr };
  }
});
