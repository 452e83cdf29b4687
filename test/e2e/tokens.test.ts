// Logging in and the tokens' edge cases, end to end on every protocol family: each bad token is
// refused with its code and writes nothing; a ClearML server's token signed with the shared key is
// accepted; a key removed by a reload stops working at once, its tokens too.
import type { JsonObject } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { decodeJwt, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Subcode } from "../../src/core/errors.js";
import { AuthService } from "../../src/gen/muster/auth/v1/auth_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import {
  ALL_SECRETS,
  basic,
  bearer,
  credentialsFile,
  credentialsJson,
  KEYS,
  TOKEN_SECRET,
} from "../support/auth.js";
import { callAs, PROTOCOLS, type Protocol } from "../support/callers.js";
import { clearml } from "../support/clearml.js";
import { captureLog, startTestServer, type TestServer } from "../support/server.js";

const W = WorkersService.method;
const LOGIN = AuthService.method.login;
let muster: TestServer;
let file: Awaited<ReturnType<typeof credentialsFile>>;
const captured = captureLog();
const usedTokens: string[] = [];

beforeAll(async () => {
  file = await credentialsFile();
  muster = await startTestServer(
    {},
    { credentials: await file.load(), tokenSecret: TOKEN_SECRET, log: captured.log },
  );
});
afterAll(async () => {
  await muster?.close();
  await file?.remove();
});

const nowSec = () => Math.floor(Date.now() / 1000);
const identityClaim = (company: string, user: string, role: string) => ({
  user,
  company,
  role,
  user_name: user,
  company_name: company,
});

async function sign(
  claims: JsonObject,
  options: { secret?: Uint8Array; exp?: number } = {},
): Promise<string> {
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(options.exp ?? nowSec() + 3600)
    .sign(options.secret ?? TOKEN_SECRET);
  usedTokens.push(token);
  return token;
}

async function login(authorization: string, protocol: Protocol = "clearml"): Promise<string> {
  const out = await callAs(protocol, muster.url, authorization, LOGIN, {});
  if (!out.ok) throw new Error(`login: ${out.message}`);
  const token = out.data.token as string;
  usedTokens.push(token);
  return token;
}

/** Whether the acme user sees a worker: a refused call must not have written it. */
async function acmeSees(worker: string): Promise<boolean> {
  const all = await callAs("clearml", muster.url, basic(KEYS.acmeUser), W.getAll, { last_seen: 0 });
  if (!all.ok) throw new Error(all.message);
  return (all.data.workers as JsonObject[]).some((w) => w.id === worker);
}

const ALG_NONE = [
  Buffer.from(JSON.stringify({ alg: "none", typ: "JWT" })).toString("base64url"),
  Buffer.from(
    JSON.stringify({
      identity: identityClaim("acme", "alice", "user"),
      access_key: KEYS.acmeUser.accessKey,
      exp: nowSec() + 3600,
    }),
  ).toString("base64url"),
  "",
].join(".");

const REFUSED: readonly {
  readonly name: string;
  readonly authorization: () => Promise<string>;
  readonly subcode: number;
}[] = [
  {
    name: "a forged signature",
    authorization: async () =>
      bearer(
        await sign(
          { identity: identityClaim("acme", "alice", "user"), access_key: KEYS.acmeUser.accessKey },
          { secret: new TextEncoder().encode("not the key muster signs with!!") },
        ),
      ),
    subcode: Subcode.badToken,
  },
  {
    name: "an expired token",
    authorization: async () =>
      bearer(
        await sign(
          { identity: identityClaim("acme", "alice", "user"), access_key: KEYS.acmeUser.accessKey },
          { exp: nowSec() - 3600 },
        ),
      ),
    subcode: Subcode.badToken,
  },
  { name: "alg none", authorization: async () => bearer(ALG_NONE), subcode: Subcode.badToken },
  {
    name: "a garbage token",
    authorization: async () => "Bearer garbage",
    subcode: Subcode.badToken,
  },
  {
    name: "a token of an unknown key",
    authorization: async () =>
      bearer(
        await sign({ identity: identityClaim("acme", "alice", "user"), access_key: "AKNOPE" }),
      ),
    subcode: Subcode.badToken,
  },
  {
    name: "Basic that is not base64",
    authorization: async () => "Basic !!!",
    subcode: Subcode.badCredentials,
  },
  {
    name: "another scheme",
    authorization: async () => "Digest abc",
    subcode: Subcode.badCredentials,
  },
  {
    name: "a wrong secret",
    authorization: async () => basic({ accessKey: KEYS.acmeUser.accessKey, secretKey: "wrong" }),
    subcode: Subcode.badCredentials,
  },
];

describe.each(PROTOCOLS)("over %s", (protocol) => {
  it.each(REFUSED)("$name is refused (401/$subcode) and writes nothing", async (c) => {
    const worker = `refused-${protocol}-${c.name.replaceAll(" ", "-")}`;
    const out = await callAs(protocol, muster.url, await c.authorization(), W.register, { worker });
    expect(out).toMatchObject({ ok: false, code: Code.Unauthenticated, subcode: c.subcode });
    expect(await acmeSees(worker)).toBe(false);
  });

  it("a ClearML server's token, signed with the shared key, is accepted as its identity", async () => {
    const token = await sign({
      identity: identityClaim("acme", "clearml-user", "user"),
      env: "production",
      api_version: "2.31",
      server_version: "2.0.0",
    });
    const worker = `clearml-token-${protocol}`;
    const out = await callAs(protocol, muster.url, bearer(token), W.register, { worker });
    expect(out).toMatchObject({ ok: true });
    const all = await callAs("clearml", muster.url, basic(KEYS.acmeUser), W.getAll, {
      worker_pattern: worker,
    });
    expect(all.ok && all.data.workers).toEqual([
      expect.objectContaining({
        id: worker,
        user: expect.objectContaining({ id: "clearml-user" }),
        company: expect.objectContaining({ id: "acme" }),
      }),
    ]);
    // A ClearML guest reads only.
    const guest = await sign({ identity: identityClaim("acme", "g", "guest") });
    expect(await callAs(protocol, muster.url, bearer(guest), W.register, { worker })).toMatchObject(
      {
        ok: false,
        code: Code.PermissionDenied,
      },
    );
  });

  it("logs in with Basic, refreshes with Bearer, and both tokens work", async () => {
    const first = await login(basic(KEYS.globexViewer), protocol);
    const claims = decodeJwt(first);
    expect(claims).toMatchObject({
      identity: { company: "globex", user: "dash", role: "viewer" },
      api_version: "2.31",
      feature_set: "basic",
    });
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(30 * 24 * 3600);
    const second = await login(bearer(first), protocol);
    for (const token of [first, second]) {
      expect(await callAs(protocol, muster.url, bearer(token), W.getCount, {})).toMatchObject({
        ok: true,
      });
    }
  });
});

describe("auth.login on the ClearML paths", () => {
  it.each([
    ["GET", "/auth.login?expiration_sec=120", {}, 120],
    ["GET", "/v2.23/auth.login?expiration_sec=90", {}, 90],
    ["POST", "/v2.31/auth.login", { expiration_sec: 60 }, 60],
    ["POST", "/auth.login/", {}, 30 * 24 * 3600],
  ] as const)("%s %s", async (method, path, body, lifetime) => {
    const res = await clearml(muster.url, path, body, {
      method,
      headers: { authorization: basic(KEYS.acmeUser) },
    });
    expect(res.status).toBe(200);
    expect(res.body.meta.endpoint.name).toBe("auth.login");
    const token = res.body.data.token as string;
    usedTokens.push(token);
    const claims = decodeJwt(token);
    expect((claims.exp ?? 0) - (claims.iat ?? 0)).toBe(lifetime);
  });

  it("refuses a lifetime out of range, naming the field", async () => {
    const res = await clearml(
      muster.url,
      "/auth.login?expiration_sec=0",
      {},
      {
        headers: { authorization: basic(KEYS.acmeUser) },
      },
    );
    expect(res.status).toBe(400);
    expect(res.body.meta.result_msg).toMatch(/expiration_sec/);
  });
});

describe("a key removed from the credentials file", () => {
  it("stops working at the reload, its tokens too; a bad file keeps the keys in force", async () => {
    const token = await login(basic(KEYS.globexUser));
    expect(await callAs("clearml", muster.url, bearer(token), W.getCount, {})).toMatchObject({
      ok: true,
    });

    // A secret in the wrong field must not reach the log line that says why the file was refused.
    await file.write(
      credentialsJson().replace(
        '"secret_key": "acme-user-secret-1"',
        '"secret_sha256": "acme-user-secret-1"',
      ),
    );
    expect(await muster.reloadCredentials()).toMatchObject({ ok: false });
    expect(await callAs("clearml", muster.url, bearer(token), W.getCount, {})).toMatchObject({
      ok: true,
    });

    const { globexUser: _removed, ...rest } = KEYS;
    await file.write(credentialsJson(Object.values(rest)));
    expect(await muster.reloadCredentials()).toEqual({ ok: true });
    for (const protocol of PROTOCOLS) {
      expect(await callAs(protocol, muster.url, bearer(token), W.getCount, {})).toMatchObject({
        ok: false,
        code: Code.Unauthenticated,
        subcode: Subcode.badToken,
      });
      expect(
        await callAs(protocol, muster.url, basic(KEYS.globexUser), W.getCount, {}),
      ).toMatchObject({
        ok: false,
        code: Code.Unauthenticated,
        subcode: Subcode.badCredentials,
      });
    }
    // The other company's keys still work.
    expect(
      await callAs("grpc", muster.url, basic(KEYS.globexViewer), W.getCount, {}),
    ).toMatchObject({
      ok: true,
    });
  });
});

it("logged no secret and no token", () => {
  const log = captured.text();
  expect(log).toContain("credentials not reloaded, keeping the previous ones");
  expect(log).toContain("secret_sha256: must be 64 hex digits");
  for (const secret of [...ALL_SECRETS, ...usedTokens]) expect(log).not.toContain(secret);
});
