// Tenancy and roles over every protocol family: two companies, a user and a viewer each. Every RPC
// is allowed or refused exactly as the role says, and nothing of one company is visible to the
// other (workers, counts, stats, metric keys, activity, queues, watch events).
import type { DescMethodUnary, JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Subcode } from "../../src/core/errors.js";
import { AuthService } from "../../src/gen/muster/auth/v1/auth_pb.js";
import { QueuesService } from "../../src/gen/muster/queues/v1/queues_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { queueId } from "../../src/queues/service.js";
import { waitUntil } from "../harness/server-process.js";
import { ALL_SECRETS, basic, bearer, credentialsFile, KEYS, type Key } from "../support/auth.js";
import { callAs, PROTOCOLS, type Protocol, watchAs } from "../support/callers.js";
import { captureLog, startTestServer, type TestServer } from "../support/server.js";

const W = WorkersService.method;
const Q = QueuesService.method;
const IDENTITIES = Object.entries(KEYS) as [string, Key][];

let muster: TestServer;
let removeFile: () => Promise<void>;
const captured = captureLog();
/** Tokens from auth.login, per identity: the ClearML and gRPC calls send them, Connect sends Basic. */
const tokens = new Map<string, string>();

const nowSec = () => Math.floor(Date.now() / 1000);
const seedOf = (key: Key) => `seed-${key.company}`;
const otherCompany = (key: Key) => (key.company === "acme" ? "globex" : "acme");

/** How an identity authenticates on a protocol: a token on ClearML and gRPC, Basic on Connect. */
function authOf(protocol: Protocol, name: string, key: Key): string {
  const token = tokens.get(name);
  if (protocol === "connect" || token === undefined) return basic(key);
  return bearer(token);
}

beforeAll(async () => {
  const file = await credentialsFile();
  removeFile = file.remove;
  muster = await startTestServer({}, { credentials: await file.load(), log: captured.log });
  for (const [name, key] of IDENTITIES) {
    const login = await callAs("clearml", muster.url, basic(key), AuthService.method.login, {});
    if (!login.ok) throw new Error(`login of ${name}: ${login.message}`);
    tokens.set(name, login.data.token as string);
  }
  // Each company's user seeds one worker with its own metrics: acme reports cpu, globex gpu.
  const seeds: [Key, JsonObject][] = [
    [KEYS.acmeUser, { cpu_usage: [10] }],
    [KEYS.globexUser, { gpu_usage: [90], memory_used: 512 }],
  ];
  for (const [key, stats] of seeds) {
    const worker = seedOf(key);
    const steps: [DescMethodUnary, JsonObject][] = [
      [W.register, { worker, queues: ["default"] }],
      [W.statusReport, { worker, timestamp: Date.now(), machine_stats: stats }],
    ];
    for (const [method, body] of steps) {
      const out = await callAs("clearml", muster.url, basic(key), method, body);
      if (!out.ok) throw new Error(`seeding ${worker}: ${out.message}`);
    }
  }
});

afterAll(async () => {
  await muster?.close();
  await removeFile?.();
});

describe("nothing of one company is visible to the other", () => {
  describe.each(PROTOCOLS)("over %s", (protocol) => {
    it.each(IDENTITIES)("as %s", async (name, key) => {
      const as = (method: DescMethodUnary, body: JsonObject) =>
        callAs(protocol, muster.url, authOf(protocol, name, key), method, body);
      const own = seedOf(key);
      const other = `seed-${otherCompany(key)}`;
      const range = { from_date: nowSec() - 600, to_date: nowSec() + 600, interval: 3600 };

      const all = await as(W.getAll, { last_seen: 0 });
      expect(all).toMatchObject({ ok: true });
      const workers = (all.ok ? all.data.workers : []) as JsonObject[];
      expect(workers.map((w) => w.id)).toEqual([own]);
      expect(workers.map((w) => (w.company as JsonObject).id)).toEqual([key.company]);

      expect(await as(W.getCount, {})).toEqual({ ok: true, data: { count: 1 } });

      const ownCategories =
        key.company === "acme"
          ? [{ name: "cpu", metric_keys: ["cpu_usage"] }]
          : [
              { name: "gpu", metric_keys: ["gpu_usage"] },
              { name: "memory", metric_keys: ["memory_used"] },
            ];
      expect(await as(W.getMetricKeys, {})).toEqual({
        ok: true,
        data: { categories: ownCategories },
      });
      // Another company's worker is answered as one that never reported: 400/1005.
      expect(await as(W.getMetricKeys, { worker_ids: [other] })).toMatchObject({
        ok: false,
        code: Code.InvalidArgument,
        subcode: Subcode.statsNotFound,
      });

      const items = [
        { key: "cpu_usage", aggregation: "avg" },
        { key: "gpu_usage", aggregation: "avg" },
      ];
      const stats = await as(W.getStats, { ...range, items });
      expect(stats.ok && (stats.data.workers as JsonObject[]).map((w) => w.worker)).toEqual([own]);
      expect(await as(W.getStats, { ...range, items, worker_ids: [other] })).toEqual({
        ok: true,
        data: { workers: [] },
      });

      const activity = await as(W.getActivityReport, range);
      const counts = activity.ok ? ((activity.data.total as JsonObject).counts as number[]) : [];
      expect(counts.reduce((a, b) => a + b, 0)).toBe(1);

      const names = key.company === "acme" ? ["default", "gpu"] : ["default"];
      expect(await as(Q.getAll, {})).toEqual({
        ok: true,
        data: {
          queues: names.map((n) => ({ id: queueId(key.company, n), name: n, tags: [] })),
        },
      });
      // Another company's queue id finds nothing.
      expect(await as(Q.getAll, { id: [queueId(otherCompany(key), "default")] })).toEqual({
        ok: true,
        data: { queues: [] },
      });
    });
  });

  describe.each(["connect", "grpc"] as const)("WatchWorkers over %s", (protocol) => {
    it.each(IDENTITIES)("as %s sees only its company's events", async (name, key) => {
      const watch = watchAs(protocol, muster.url, authOf(protocol, name, key));
      try {
        await waitUntil(async () => watch.events.length > 0, 5000, "the snapshot");
        const snapshot = watch.events[0]?.snapshot as JsonObject;
        expect((snapshot.workers as JsonObject[]).map((w) => w.id)).toEqual([seedOf(key)]);
        // The other company's user registers first, then this company's user: only the second
        // may arrive, and it arrives after the first was handled.
        const otherUser = key.company === "acme" ? KEYS.globexUser : KEYS.acmeUser;
        const ownUser = key.company === "acme" ? KEYS.acmeUser : KEYS.globexUser;
        const worker = `watched-${name}-${protocol}`;
        for (const user of [otherUser, ownUser]) {
          const out = await callAs("clearml", muster.url, basic(user), W.register, { worker });
          expect(out.ok).toBe(true);
        }
        await waitUntil(async () => watch.events.length > 1, 5000, "the joined event");
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(watch.events.slice(1)).toEqual([
          {
            joined: expect.objectContaining({
              id: worker,
              company: expect.objectContaining({ id: key.company }),
            }),
          },
        ]);
        for (const user of [otherUser, ownUser]) {
          await callAs("clearml", muster.url, basic(user), W.unregister, { worker });
        }
        expect(watch.ended()).toBeUndefined();
      } finally {
        watch.close();
      }
    });
  });
});

/** Every RPC with a request it accepts, and whether it writes. */
const RPCS: readonly {
  readonly method: DescMethodUnary;
  readonly write: boolean;
  readonly body: (worker: string) => JsonObject;
}[] = [
  { method: W.register, write: true, body: (worker) => ({ worker }) },
  {
    method: W.statusReport,
    write: true,
    body: (worker) => ({ worker, timestamp: Date.now(), machine_stats: { memory_used: 1 } }),
  },
  { method: W.unregister, write: true, body: (worker) => ({ worker }) },
  { method: W.getAll, write: false, body: () => ({}) },
  { method: W.getCount, write: false, body: () => ({}) },
  { method: W.getMetricKeys, write: false, body: () => ({}) },
  {
    method: W.getStats,
    write: false,
    body: () => ({
      from_date: nowSec() - 60,
      to_date: nowSec(),
      interval: 60,
      items: [{ key: "cpu_usage" }],
    }),
  },
  {
    method: W.getActivityReport,
    write: false,
    body: () => ({ from_date: nowSec() - 60, to_date: nowSec(), interval: 60 }),
  },
  { method: Q.getAll, write: false, body: () => ({}) },
  { method: Q.getNextTask, write: true, body: () => ({ queue: queueId("acme", "default") }) },
  { method: AuthService.method.login, write: false, body: () => ({}) },
];

const MATRIX = PROTOCOLS.flatMap((protocol) =>
  IDENTITIES.flatMap(([name, key]) =>
    RPCS.map((rpc) => ({
      protocol,
      name,
      key,
      rpc,
      label: `${protocol} ${name} ${rpc.method.parent.name}/${rpc.method.name}`,
      allowed: key.role === "user" || !rpc.write,
    })),
  ),
);

describe("each role may call exactly what it should, on every protocol", () => {
  it.each(MATRIX)("$label → allowed: $allowed", async ({ protocol, name, key, rpc, allowed }) => {
    const worker = `matrix-${protocol}-${name}-${rpc.method.name}`;
    const out = await callAs(
      protocol,
      muster.url,
      authOf(protocol, name, key),
      rpc.method,
      rpc.body(worker),
    );
    if (allowed) {
      expect(out).toMatchObject({ ok: true });
      return;
    }
    expect(out).toMatchObject({ ok: false, code: Code.PermissionDenied, subcode: Subcode.none });
    expect(out.ok || out.message).toMatch(/role "viewer" may not call/);
    // Nothing was written: the company's user does not see the worker.
    const user = key.company === "acme" ? KEYS.acmeUser : KEYS.globexUser;
    const all = await callAs("clearml", muster.url, basic(user), W.getAll, { last_seen: 0 });
    expect(all.ok && (all.data.workers as JsonObject[]).map((w) => w.id)).not.toContain(worker);
  });

  it.each(PROTOCOLS)("a call without credentials over %s is 401/20", async (protocol) => {
    const out = await callAs(protocol, muster.url, undefined, W.getCount, {});
    expect(out).toMatchObject({
      ok: false,
      code: Code.Unauthenticated,
      subcode: Subcode.noCredentials,
    });
  });

  it.each(["connect", "grpc"] as const)(
    "WatchWorkers without credentials over %s is 401/20",
    async (protocol) => {
      const watch = watchAs(protocol, muster.url, undefined);
      try {
        await waitUntil(async () => watch.ended() !== undefined, 5000, "the stream ended");
        expect(watch.ended()).toMatchObject({
          ok: false,
          code: Code.Unauthenticated,
          subcode: Subcode.noCredentials,
        });
        expect(watch.events).toEqual([]);
      } finally {
        watch.close();
      }
    },
  );
});

it("logged no secret and no token", () => {
  const log = captured.text();
  for (const secret of [...ALL_SECRETS, ...tokens.values()]) expect(log).not.toContain(secret);
});
