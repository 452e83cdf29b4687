// Who a call is: the 401 subcodes, tokens against the live keys, ClearML roles, open mode, roles.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Code } from "@connectrpc/connect";
import { decodeJwt, SignJWT } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Authenticator, OPEN_IDENTITY, parseAuthorization } from "../../src/auth/authenticator.js";
import { roleOfClearmlRole } from "../../src/auth/clearml-roles.js";
import { LiveCredentials } from "../../src/auth/live-credentials.js";
import {
  accessOf,
  authorize,
  authorizeMethod,
  mayReadCompany,
  roleOf,
} from "../../src/auth/permissions.js";
import { Tokens } from "../../src/auth/token.js";
import { Subcode } from "../../src/core/errors.js";
import { DEFAULT_IDENTITY } from "../../src/core/identity.js";
import { AuthService } from "../../src/gen/muster/auth/v1/auth_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { ManualClock } from "../support/clock.js";

const SECRET = new TextEncoder().encode("the shared token secret of the test");

const basic = (key: string, secret: string) =>
  `Basic ${Buffer.from(`${key}:${secret}`, "latin1").toString("base64")}`;
const bearer = (token: string) => `Bearer ${token}`;

const noCredentials = { code: Code.Unauthenticated, subcode: Subcode.noCredentials };
const badCredentials = { code: Code.Unauthenticated, subcode: Subcode.badCredentials };
const badToken = { code: Code.Unauthenticated, subcode: Subcode.badToken };

function file(options: { withAlice?: boolean; aliceRole?: string; akacme1User?: string } = {}) {
  const users: Record<string, unknown>[] = [
    {
      id: "grafana",
      role: "viewer",
      keys: [
        {
          access_key: "AKVIEW",
          secret_sha256: createHash("sha256").update("view-only").digest("hex"),
        },
      ],
    },
  ];
  if (options.withAlice ?? true) {
    users.push({
      id: options.akacme1User ?? "alice",
      role: options.aliceRole ?? "user",
      keys: [{ access_key: "AKACME1", secret_key: "s3cret" }],
    });
  }
  return JSON.stringify({
    companies: [
      { id: "acme", name: "Acme", users },
      {
        id: "globex",
        users: [{ id: "bob", role: "user", keys: [{ access_key: "AKGLOBEX", secret_key: "b0b" }] }],
      },
    ],
  });
}

function tokensAt(clock: ManualClock): Tokens {
  return new Tokens({
    secret: SECRET,
    clock,
    apiVersion: "2.31",
    serverVersion: "1.17.0",
    serverBuild: "muster",
    env: "test",
  });
}

/** A token as a ClearML server with the same secret issues it. */
async function clearmlToken(clock: ManualClock, role: string): Promise<string> {
  const now = Math.floor(clock.now() / 1000);
  return new SignJWT({
    identity: { user: "u1", company: "c1", role, user_name: "U", company_name: "C" },
    entities: {},
    env: "production",
    iat: now,
    exp: now + 3600,
    api_version: "2.31",
    server_version: "2.0.0",
    server_build: "1",
    feature_set: "basic",
  })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(SECRET);
}

describe("authenticator with a credentials file", () => {
  let dir: string;
  let path: string;
  let clock: ManualClock;
  let live: LiveCredentials;
  let auth: Authenticator;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "muster-auth-"));
    path = join(dir, "credentials.json");
    await writeFile(path, file());
    clock = new ManualClock(Date.UTC(2026, 0, 15));
    live = await LiveCredentials.load(path);
    auth = new Authenticator({ tokens: tokensAt(clock), credentials: live });
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function rewrite(options: Parameters<typeof file>[0]): Promise<void> {
    await writeFile(path, file(options));
    expect(await live.reload()).toEqual({ ok: true });
  }

  it("is not open", () => {
    expect(auth.open).toBe(false);
  });

  it.each([undefined, "", "   "])("answers 401/20 without credentials (%j)", async (header) => {
    await expect(auth.authenticate(header)).rejects.toMatchObject({
      ...noCredentials,
      message: expect.stringContaining("missing credentials"),
    });
    await expect(auth.login(header, undefined)).rejects.toMatchObject(noCredentials);
  });

  it("proves an identity with Basic key:secret, in clear or hashed", async () => {
    expect(await auth.authenticate(basic("AKACME1", "s3cret"))).toEqual({
      company: "acme",
      user: "alice",
      role: "user",
    });
    expect(await auth.authenticate(basic("AKVIEW", "view-only"))).toEqual({
      company: "acme",
      user: "grafana",
      role: "viewer",
    });
    expect(await auth.authenticate(`basic   ${basic("AKGLOBEX", "b0b").slice(6)}`)).toMatchObject({
      company: "globex",
    });
  });

  it.each([
    ["a wrong secret", basic("AKACME1", "wrong")],
    ["another key's secret", basic("AKACME1", "b0b")],
    ["an unknown key", basic("AKNOPE", "s3cret")],
    ["no colon", `Basic ${Buffer.from("AKACME1").toString("base64")}`],
    ["not base64", "Basic !!!"],
    ["another scheme", "Digest abc"],
    ["a scheme alone", "Basic"],
  ])("answers 401/22 to %s", async (_name, header) => {
    await expect(auth.authenticate(header)).rejects.toMatchObject(badCredentials);
    await expect(auth.login(header, undefined)).rejects.toMatchObject(badCredentials);
  });

  it("logs in with Basic and then accepts the token, and refreshes it with Bearer", async () => {
    const token = await auth.login(basic("AKACME1", "s3cret"), 3600);
    expect(decodeJwt(token)).toMatchObject({
      identity: { company: "acme", user: "alice", role: "user", company_name: "Acme" },
      access_key: "AKACME1",
      exp: clock.now() / 1000 + 3600,
    });
    expect(await auth.authenticate(bearer(token))).toEqual({
      company: "acme",
      user: "alice",
      role: "user",
    });
    clock.advance(1000_000);
    const refreshed = await auth.login(bearer(token), undefined);
    expect(decodeJwt(refreshed)).toMatchObject({
      access_key: "AKACME1",
      identity: { user: "alice" },
    });
    clock.advance(3000_000);
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject(badToken);
    expect(await auth.authenticate(bearer(refreshed))).toMatchObject({ user: "alice" });
  });

  it("answers 401/30 to a bad token", async () => {
    await expect(auth.authenticate("Bearer garbage")).rejects.toMatchObject(badToken);
    await expect(auth.login("Bearer garbage", undefined)).rejects.toMatchObject(badToken);
  });

  it("refuses a removed key's tokens at once, and a key given to another user", async () => {
    const token = await auth.login(basic("AKACME1", "s3cret"), undefined);
    await rewrite({ withAlice: false });
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject({
      ...badToken,
      message: "invalid token: access key AKACME1 no longer exists",
    });
    await expect(auth.login(bearer(token), undefined)).rejects.toMatchObject(badToken);
    await rewrite({ akacme1User: "mallory" });
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject({
      ...badToken,
      message: "invalid token: access key AKACME1 now belongs to another user",
    });
  });

  it("takes a token's role from the live key, so a demotion applies at once", async () => {
    const token = await auth.login(basic("AKACME1", "s3cret"), undefined);
    await rewrite({ aliceRole: "viewer" });
    expect(await auth.authenticate(bearer(token))).toMatchObject({ role: "viewer" });
  });

  it.each([
    ["system", "admin"],
    ["root", "admin"],
    ["admin", "user"],
    ["superuser", "user"],
    ["user", "user"],
    ["annotator", "viewer"],
    ["guest", "viewer"],
  ])("accepts a ClearML server's %s token as a muster %s", async (clearml, role) => {
    const token = await clearmlToken(clock, clearml);
    expect(await auth.authenticate(bearer(token))).toEqual({ company: "c1", user: "u1", role });
    // A refreshed ClearML token keeps the ClearML role, so it maps the same way again.
    const refreshed = await auth.login(bearer(token), undefined);
    expect(decodeJwt(refreshed)).toMatchObject({ identity: { role: clearml, user_name: "U" } });
    expect(decodeJwt(refreshed).access_key).toBeUndefined();
    expect(await auth.authenticate(bearer(refreshed))).toEqual({ company: "c1", user: "u1", role });
  });

  it("refuses a ClearML-shaped token with a role ClearML does not have", async () => {
    const token = await clearmlToken(clock, "owner");
    await expect(auth.authenticate(bearer(token))).rejects.toMatchObject({
      ...badToken,
      message: 'invalid token: role "owner" is not a ClearML role muster knows',
    });
    expect(roleOfClearmlRole("constructor")).toBeUndefined();
  });
});

describe("authenticator in open mode (no credentials file)", () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 15));
  const auth = new Authenticator({ tokens: tokensAt(clock), credentials: undefined });

  it("makes every caller the default identity, a user", async () => {
    expect(auth.open).toBe(true);
    expect(OPEN_IDENTITY).toEqual({ ...DEFAULT_IDENTITY, role: "user" });
    expect(await auth.authenticate(undefined)).toEqual(OPEN_IDENTITY);
    expect(await auth.authenticate(basic("anything", "at all"))).toEqual(OPEN_IDENTITY);
  });

  it("logs in any key, and still refuses a token it did not sign", async () => {
    const token = await auth.login(basic("AKANY", "x"), undefined);
    expect(decodeJwt(token)).toMatchObject({
      identity: { company: "default", user: "default", role: "user" },
      access_key: "AKANY",
      api_version: "2.31",
    });
    expect(await auth.authenticate(bearer(token))).toEqual(OPEN_IDENTITY);
    expect(decodeJwt(await auth.login(undefined, undefined)).access_key).toBeUndefined();
    await expect(auth.authenticate("Bearer a.b.c")).rejects.toMatchObject(badToken);
    await expect(auth.authenticate("Digest x")).rejects.toMatchObject(badCredentials);
  });
});

describe("Authorization header", () => {
  it("decodes Basic as Latin-1 and splits at the first colon", () => {
    expect(parseAuthorization(basic("AK", "p:ss:wörd"))).toEqual({
      kind: "basic",
      accessKey: "AK",
      secretKey: "p:ss:wörd",
    });
    expect(parseAuthorization("BEARER t.o.k")).toEqual({ kind: "bearer", token: "t.o.k" });
    expect(parseAuthorization(undefined)).toEqual({ kind: "none" });
  });
});

describe("roles", () => {
  const viewer = { company: "acme", user: "grafana", role: "viewer" } as const;
  const user = { company: "acme", user: "alice", role: "user" } as const;
  const admin = { company: "acme", user: "root", role: "admin" } as const;

  it("lets viewers call only the reads, WatchWorkers and Login", () => {
    const reads = ["getAll", "getCount", "getStats", "getActivityReport", "getMetricKeys"];
    for (const method of WorkersService.methods) {
      const expected =
        reads.includes(method.localName) || method.localName === "watchWorkers" ? "read" : "write";
      expect([method.localName, accessOf(method)]).toEqual([method.localName, expected]);
    }
    expect(accessOf(AuthService.method.login)).toBe("read");
    expect(() => authorizeMethod(viewer, WorkersService.method.watchWorkers)).not.toThrow();
    expect(() => authorizeMethod(viewer, AuthService.method.login)).not.toThrow();
    expect(() => authorizeMethod(viewer, WorkersService.method.register)).toThrow(
      expect.objectContaining({
        code: Code.PermissionDenied,
        message:
          'role "viewer" may not call muster.workers.v1.WorkersService/Register: viewers only read',
      }),
    );
    expect(() => authorize(viewer, "write", "workers.status_report")).toThrow(
      'role "viewer" may not call workers.status_report',
    );
  });

  it("lets users and admins write, the default identity being a user", () => {
    expect(() => authorizeMethod(user, WorkersService.method.statusReport)).not.toThrow();
    expect(() => authorizeMethod(admin, WorkersService.method.unregister)).not.toThrow();
    expect(() => authorizeMethod(DEFAULT_IDENTITY, WorkersService.method.register)).not.toThrow();
    expect(roleOf(DEFAULT_IDENTITY)).toBe("user");
  });

  it("lets only an admin read another company", () => {
    expect(mayReadCompany(user, "acme")).toBe(true);
    expect(mayReadCompany(viewer, "acme")).toBe(true);
    expect(mayReadCompany(user, "globex")).toBe(false);
    expect(mayReadCompany(viewer, "globex")).toBe(false);
    expect(mayReadCompany(admin, "globex")).toBe(true);
  });
});
