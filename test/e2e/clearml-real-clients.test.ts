// The real ClearML SDK and agent (pinned in test/python/requirements.txt, installed into .venv by
// scripts/install-test-deps.sh) against a real muster: once open, once with a credentials file.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { queueId } from "../../src/queues/service.js";
import { waitUntil } from "../harness/server-process.js";
import { ALL_SECRETS, basic, credentialsFile, KEYS, type Key } from "../support/auth.js";
import { clearml } from "../support/clearml.js";
import { captureLog, startTestServer, type TestServer } from "../support/server.js";

const run = promisify(execFile);
const ROOT = new URL("../..", import.meta.url).pathname;
const VENV_BIN = join(ROOT, ".venv/bin");
const PYTHON = join(VENV_BIN, "python");
const AGENT = join(VENV_BIN, "clearml-agent");

interface Mode {
  readonly name: string;
  readonly key: Pick<Key, "accessKey" | "secretKey">;
  readonly company: string;
  readonly user: string;
  readonly withCredentials: boolean;
}

const MODES: readonly Mode[] = [
  {
    name: "open (embedded default)",
    key: { accessKey: "ANY-KEY", secretKey: "any secret at all" },
    company: "default",
    user: "default",
    withCredentials: false,
  },
  {
    name: "with --credentials",
    key: KEYS.acmeUser,
    company: KEYS.acmeUser.company,
    user: KEYS.acmeUser.user,
    withCredentials: true,
  },
];

describe.each(MODES)("real ClearML clients, $name", (mode) => {
  let muster: TestServer;
  let home: string;
  let removeCredentials: (() => Promise<void>) | undefined;
  const captured = captureLog();

  beforeAll(async () => {
    for (const bin of [PYTHON, AGENT]) {
      await access(bin).catch(() => {
        throw new Error(`${bin} is missing: run scripts/install-test-deps.sh`);
      });
    }
    home = await mkdtemp(join(tmpdir(), "muster-clearml-home-"));
    let credentials: Awaited<ReturnType<Awaited<ReturnType<typeof credentialsFile>>["load"]>>;
    if (mode.withCredentials) {
      const file = await credentialsFile();
      removeCredentials = file.remove;
      credentials = await file.load();
      muster = await startTestServer({}, { credentials, log: captured.log });
    } else {
      muster = await startTestServer({}, { log: captured.log });
    }
  });
  afterAll(async () => {
    await muster?.close();
    await removeCredentials?.();
    await rm(home, { recursive: true, force: true });
  });

  /** The clients' environment: no clearml.conf (an empty HOME), the server and the key. */
  const clientEnv = (key: Mode["key"], extra: Record<string, string> = {}) => ({
    HOME: home,
    TMPDIR: home,
    PATH: `${VENV_BIN}:${process.env.PATH ?? ""}`,
    PYTHONWARNINGS: "ignore",
    CLEARML_API_HOST: muster.url,
    CLEARML_API_ACCESS_KEY: key.accessKey,
    CLEARML_API_SECRET_KEY: key.secretKey,
    ...extra,
  });
  const asCaller = { headers: { authorization: basic(mode.key) } };
  const listed = async () => {
    const res = await clearml(muster.url, "/workers.get_all", { last_seen: 0 }, asCaller);
    expect(res.status).toBe(200);
    return res.body.data.workers as {
      id: string;
      queues: { id: string }[];
      company: { id: string };
    }[];
  };

  it("the SDK's APIClient logs in and makes every workers call", async () => {
    const worker = `sdk-${mode.company}`;
    const { stdout } = await run(
      PYTHON,
      [join(ROOT, "test/python/sdk_workers.py"), "--worker", worker, "--queue", "default"],
      { env: clientEnv(mode.key), timeout: 60_000 },
    );
    const calls = new Map(
      stdout
        .trim()
        .split("\n")
        .map(
          (line) =>
            JSON.parse(line) as { call: string; ok: boolean; data?: unknown } & Record<
              string,
              unknown
            >,
        )
        .map((c) => [c.call, c]),
    );
    expect([...calls.keys()]).toEqual([
      "auth.login",
      "workers.register",
      "workers.status_report",
      "workers.get_all",
      "workers.get_metric_keys",
      "workers.get_stats",
      "workers.get_activity_report",
      "workers.unregister",
    ]);
    for (const call of calls.values()) expect(call.ok, call.call).toBe(true);
    const login = calls.get("auth.login");
    expect(Number(login?.api_version)).toBeGreaterThanOrEqual(2.23);
    expect(login?.server_version).toBe("1.17.0");
    expect(calls.get("workers.register")?.data).toEqual({});
    expect(calls.get("workers.status_report")?.data).toEqual({});
    expect(calls.get("workers.get_all")?.data).toEqual([
      expect.objectContaining({
        id: worker,
        company: expect.objectContaining({ id: mode.company }),
        user: expect.objectContaining({ id: mode.user }),
        queues: [{ id: "default" }],
      }),
    ]);
    expect(calls.get("workers.get_metric_keys")?.data).toEqual({
      categories: [
        { name: "cpu", metric_keys: ["cpu_usage"] },
        { name: "disk", metric_keys: ["disk_free_home"] },
        { name: "gpu", metric_keys: ["gpu_usage"] },
        { name: "memory", metric_keys: ["memory_free", "memory_used"] },
      ],
    });
    const stats = calls.get("workers.get_stats")?.data as {
      workers: {
        worker: string;
        metrics: { metric: string; stats: { aggregation: string; values: number[] }[] }[];
      }[];
    };
    expect(stats.workers).toHaveLength(1);
    expect(stats.workers[0]?.worker).toBe(worker);
    expect(
      stats.workers[0]?.metrics.map((m) => [m.metric, m.stats[0]?.aggregation, m.stats[0]?.values]),
    ).toEqual([
      ["cpu_usage", "avg", [25]],
      ["memory_used", "max", [1024]],
    ]);
    const activity = calls.get("workers.get_activity_report")?.data as {
      total: { counts: number[] };
    };
    expect(activity.total.counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(calls.get("workers.unregister")?.data).toEqual({});
    expect(await listed()).toEqual([]);
  }, 90_000);

  it("clearml-agent list logs in and lists the workers", async () => {
    const { stdout } = await run(AGENT, ["list"], { env: clientEnv(mode.key), timeout: 60_000 });
    expect(stdout).toMatch(/^workers: \[\]$/m);
  }, 90_000);

  it("clearml-agent daemon registers with its queue, reports machine stats, and leaves on SIGTERM", async () => {
    const worker = `agent-${mode.company}`;
    const daemon = spawn(AGENT, ["daemon", "--queue", "default", "--foreground"], {
      env: clientEnv(mode.key, { CLEARML_WORKER_ID: worker }),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    daemon.stdout?.on("data", (c: Buffer) => {
      output = (output + c.toString()).slice(-8000);
    });
    daemon.stderr?.on("data", (c: Buffer) => {
      output = (output + c.toString()).slice(-8000);
    });
    try {
      const queue = queueId(mode.company, "default");
      await waitUntil(
        async () =>
          (await listed()).some((w) => w.id === worker && w.queues.some((q) => q.id === queue)),
        30_000,
        "the agent registered with queue default",
      ).catch((error: Error) => {
        throw new Error(`${error.message}; agent output:\n${output}`);
      });
      const now = Date.now();
      await waitUntil(
        async () => {
          const res = await clearml(
            muster.url,
            "/workers.get_stats",
            {
              worker_ids: [worker],
              from_date: Math.floor(now / 1000) - 600,
              to_date: Math.floor(now / 1000) + 600,
              interval: 60,
              items: [{ key: "memory_used", aggregation: "max" }],
            },
            asCaller,
          );
          const workers = res.body.data.workers as {
            metrics: { stats: { values: number[] }[] }[];
          }[];
          return (workers[0]?.metrics[0]?.stats[0]?.values.length ?? 0) > 0;
        },
        30_000,
        "the agent reported machine stats",
      ).catch((error: Error) => {
        throw new Error(`${error.message}; agent output:\n${output}`);
      });
      expect((await listed()).find((w) => w.id === worker)?.company.id).toBe(mode.company);
    } finally {
      await stop(daemon);
    }
    await waitUntil(
      async () => !(await listed()).some((w) => w.id === worker),
      10_000,
      "the agent unregistered on SIGTERM",
    );
  }, 120_000);

  if (mode.withCredentials) {
    it("a wrong secret is refused: the SDK cannot log in, and neither can the agent", async () => {
      const wrong = { accessKey: KEYS.acmeUser.accessKey, secretKey: "not-the-secret" };
      const sdk = await run(PYTHON, [join(ROOT, "test/python/sdk_workers.py")], {
        env: clientEnv(wrong),
        timeout: 60_000,
      }).then(
        (r) => ({ code: 0, stdout: r.stdout }),
        (e: { code: number; stdout: string }) => e,
      );
      expect(sdk.code).toBe(1);
      const line = JSON.parse(sdk.stdout.trim().split("\n").at(-1) ?? "{}");
      expect(line).toMatchObject({ call: "auth.login", ok: false });
      expect(line.error).toMatch(/401/);
      const agent = await run(AGENT, ["list"], { env: clientEnv(wrong), timeout: 60_000 }).then(
        () => ({ code: 0, stderr: "" }),
        (e: { code: number; stderr: string; stdout: string }) => ({
          code: e.code,
          stderr: `${e.stderr}${e.stdout}`,
        }),
      );
      expect(agent.code).toBe(1);
      expect(agent.stderr).toMatch(/Failed getting token \(error 401/);
    }, 90_000);
  }

  it("logged no secret", () => {
    const log = captured.text();
    for (const secret of [...ALL_SECRETS, mode.key.secretKey]) expect(log).not.toContain(secret);
  });
});

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
  await exited;
  clearTimeout(timer);
}
