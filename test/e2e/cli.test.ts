import { type ChildProcess, execFile, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../harness/server-process.js";
import { basic, credentialsFile, credentialsJson, KEYS } from "../support/auth.js";
import { clearml } from "../support/clearml.js";
import { buildMuster } from "../support/muster-process.js";

const run = promisify(execFile);

/** The command line as an operator runs it: the compiled dist/main.js on this Node. */
describe("muster command line", () => {
  let build: Awaited<ReturnType<typeof buildMuster>> | undefined;
  let main: string;
  beforeAll(async () => {
    build = await buildMuster();
    main = build.main;
  }, 120_000);
  afterAll(async () => {
    await build?.remove();
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

  it("refuses a non-loopback --listen without --credentials, in one line naming the flag", async () => {
    const { code, stderr } = await muster(["--listen", "0.0.0.0:0"]);
    expect(code).toBe(2);
    expect(stderr.trim().split("\n")).toHaveLength(1);
    expect(stderr).toMatch(
      /^muster: --listen: 0\.0\.0\.0 is not a loopback address: give --credentials FILE, or --allow-anonymous/,
    );
  });

  it("serves a non-loopback --listen open with --allow-anonymous, and says it runs open", async () => {
    const { child, port, logs } = await startMuster(["--listen", "0.0.0.0:0", "--allow-anonymous"]);
    try {
      const res = await clearml(`http://127.0.0.1:${port}`, "/workers.get_count", {});
      expect(res.body.data).toEqual({ count: 0 });
      expect(logs()).toContain(
        'auth: open, no --credentials: every caller acts as company \\"default\\"',
      );
      expect(logs()).toContain("tokens: signed with a random key of this process");
    } finally {
      child.kill("SIGTERM");
    }
  });

  it.each([
    [
      ["--credentials", "/nonexistent/credentials.json"],
      /^muster: cannot start: --credentials: credentials file \/nonexistent\/credentials\.json: ENOENT/,
    ],
    [
      ["--token-secret-file", "/nonexistent/secret"],
      /^muster: cannot start: --token-secret-file: token secret file \/nonexistent\/secret: ENOENT/,
    ],
  ])("fails to start with one line when %j cannot be read", async (args, message) => {
    const { code, stderr } = await muster(["--listen", "127.0.0.1:0", ...args]);
    expect(code).toBe(1);
    expect(stderr.trim().split("\n").at(-1)).toMatch(message);
  });

  it("re-reads the credentials file on SIGHUP: a removed key stops working, a bad file is kept out", async () => {
    const file = await credentialsFile();
    const secretFile = join(dirname(main), "token-secret");
    await writeFile(secretFile, "a token secret of at least sixteen bytes\n");
    const { child, port, logs } = await startMuster([
      "--credentials",
      file.path,
      "--token-secret-file",
      secretFile,
    ]);
    const url = `http://127.0.0.1:${port}`;
    const count = (key: { accessKey: string; secretKey: string }) =>
      clearml(url, "/workers.get_count", {}, { headers: { authorization: basic(key) } });
    const hup = async (expected: string) => {
      const before = logs().split(expected).length;
      child.kill("SIGHUP");
      await waitUntil(
        async () => logs().split(expected).length > before,
        5000,
        `"${expected}" logged`,
      );
    };
    try {
      expect(logs()).toContain(`auth: credentials from ${file.path} (2 companies, 4 keys)`);
      expect(logs()).toContain(`tokens: signed with the key in ${secretFile}`);
      expect((await count(KEYS.globexUser)).status).toBe(200);
      expect((await clearml(url, "/workers.get_count", {})).body.meta.result_subcode).toBe(20);

      await file.write('{"companies": []}');
      await hup("credentials not reloaded, keeping the previous ones");
      expect(logs()).toContain("companies: must contain at least 1 item(s)");
      expect((await count(KEYS.globexUser)).status).toBe(200);

      const { globexUser: _removed, ...rest } = KEYS;
      await file.write(credentialsJson(Object.values(rest)));
      await hup("credentials reloaded from");
      const refused = await count(KEYS.globexUser);
      expect([refused.status, refused.body.meta.result_subcode]).toEqual([401, 22]);
      expect((await count(KEYS.acmeUser)).status).toBe(200);
      for (const key of Object.values(KEYS)) expect(logs()).not.toContain(key.secretKey);
    } finally {
      child.kill("SIGTERM");
      await file.remove();
    }
  });

  /** Starts muster on a free port (it prints the URL it listens on) and waits for it. */
  async function startMuster(
    args: string[] = ["--listen", "127.0.0.1:0"],
  ): Promise<{ child: ChildProcess; port: number; logs: () => string }> {
    const listen = args.includes("--listen") ? [] : ["--listen", "127.0.0.1:0"];
    const child = spawn(process.execPath, [main, ...listen, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    const port = await new Promise<number>((resolve, reject) => {
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
        const match = /listening on http:\/\/[^:]+:(\d+)/.exec(stderr);
        if (match) resolve(Number(match[1]));
      });
      child.once("exit", (code) => reject(new Error(`muster exited with ${code}: ${stderr}`)));
    });
    return { child, port, logs: () => stderr };
  }
});
