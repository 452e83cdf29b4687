// Session tokens: what muster signs, what it accepts, and the 401/30 for everything else.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { Code } from "@connectrpc/connect";
import { decodeJwt, decodeProtectedHeader, SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { DEFAULT_EXPIRATION_SEC, type TokenIdentity, Tokens } from "../../src/auth/token.js";
import { parseTokenSecret, randomTokenSecret } from "../../src/auth/token-secret.js";
import { Subcode } from "../../src/core/errors.js";
import { ManualClock } from "../support/clock.js";

const SECRET_TEXT = "a shared token secret, long enough";
const SECRET = new TextEncoder().encode(SECRET_TEXT);
const T0 = Date.UTC(2026, 0, 15, 12, 0, 0);

const alice: TokenIdentity = {
  user: "alice",
  company: "acme",
  role: "user",
  userName: "Alice",
  companyName: "Acme",
};

function setup(secret: Uint8Array = SECRET) {
  const clock = new ManualClock(T0);
  const tokens = new Tokens({
    secret,
    clock,
    apiVersion: "2.31",
    serverVersion: "1.17.0",
    serverBuild: "muster",
    env: "test",
  });
  return { clock, tokens };
}

const refused = { code: Code.Unauthenticated, subcode: Subcode.badToken };

function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64url");
}

/** The claims the ClearML server puts in its tokens (auth.login), as its PyJWT encodes them. */
function clearmlClaims(nowSec: number, role = "user") {
  return {
    identity: {
      user: "d1bd92a3b039400cbafc60a7a5b1e52b",
      company: "d1bd92a3b039400cbafc60a7a5b1e52c",
      role,
      user_name: "Some User",
      company_name: "Some Company",
    },
    entities: {},
    env: "production",
    iat: nowSec,
    exp: nowSec + 3600,
    api_version: "2.31",
    server_version: "2.0.0",
    server_build: "123",
    feature_set: "basic",
  };
}

describe("tokens", () => {
  it("round-trips an identity and an access key, expiring after 30 days by default", async () => {
    const { tokens } = setup();
    const token = await tokens.issue({
      identity: alice,
      accessKey: "AK1",
      expirationSec: undefined,
    });
    expect(await tokens.verify(token)).toEqual({
      identity: alice,
      accessKey: "AK1",
      expiresAtMs: T0 + DEFAULT_EXPIRATION_SEC * 1000,
    });
  });

  it("carries the claims the ClearML SDK reads, in the reference's shape", async () => {
    const { tokens } = setup();
    const token = await tokens.issue({ identity: alice, accessKey: "AK1", expirationSec: 60 });
    expect(token.split(".")).toHaveLength(3);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "HS256", typ: "JWT" });
    expect(decodeJwt(token)).toEqual({
      identity: {
        user: "alice",
        company: "acme",
        role: "user",
        user_name: "Alice",
        company_name: "Acme",
      },
      access_key: "AK1",
      env: "test",
      api_version: "2.31",
      server_version: "1.17.0",
      server_build: "muster",
      feature_set: "basic",
      iat: T0 / 1000,
      exp: T0 / 1000 + 60,
    });
  });

  it("refuses a token past its exp", async () => {
    const { clock, tokens } = setup();
    const token = await tokens.issue({ identity: alice, accessKey: "AK1", expirationSec: 60 });
    clock.advance(59_000);
    await expect(tokens.verify(token)).resolves.toMatchObject({ accessKey: "AK1" });
    clock.advance(60_000);
    await expect(tokens.verify(token)).rejects.toMatchObject({
      ...refused,
      message: "invalid token: token expired",
    });
  });

  it("refuses a token signed with another key", async () => {
    const other = setup(randomTokenSecret()).tokens;
    const token = await other.issue({ identity: alice, accessKey: "AK1", expirationSec: 60 });
    await expect(setup().tokens.verify(token)).rejects.toMatchObject({
      ...refused,
      message: "invalid token: bad signature",
    });
  });

  it("refuses a token whose claims were changed after signing", async () => {
    const { tokens } = setup();
    const token = await tokens.issue({ identity: alice, accessKey: "AK1", expirationSec: 60 });
    const [header, payload, signature] = token.split(".");
    const claims = decodeJwt(token);
    const forged = `${header}.${b64({ ...claims, identity: { ...alice, company: "other" } })}.${signature}`;
    expect(payload).not.toBe(forged.split(".")[1]);
    await expect(tokens.verify(forged)).rejects.toMatchObject(refused);
  });

  it("refuses alg none and any algorithm but HS256", async () => {
    const { tokens } = setup();
    const claims = { ...clearmlClaims(T0 / 1000), access_key: "AK1" };
    const none = `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
    await expect(tokens.verify(none)).rejects.toMatchObject(refused);
    const hs512 = await new SignJWT(claims).setProtectedHeader({ alg: "HS512" }).sign(SECRET);
    await expect(tokens.verify(hs512)).rejects.toMatchObject({
      ...refused,
      message: "invalid token: only HS256 tokens are accepted",
    });
  });

  it.each([
    ["an empty string", ""],
    ["an opaque string", "not-a-jwt"],
    ["three dots of nothing", "a.b.c"],
    ["base64 that is not JSON", `${b64({ alg: "HS256" })}.bm90IGpzb24.c2ln`],
  ])("refuses garbage: %s", async (_name, token) => {
    await expect(setup().tokens.verify(token)).rejects.toMatchObject(refused);
  });

  it("refuses a well-signed token without an identity or with a bad access_key claim", async () => {
    const { tokens } = setup();
    const now = T0 / 1000;
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(SECRET);
    await expect(tokens.verify(await sign({ exp: now + 60 }))).rejects.toMatchObject({
      ...refused,
      message: "invalid token: token has no valid identity claim",
    });
    const noCompany = { ...clearmlClaims(now), identity: { user: "u", role: "user" } };
    await expect(tokens.verify(await sign(noCompany))).rejects.toMatchObject(refused);
    const badKey = { ...clearmlClaims(now), access_key: 7 };
    await expect(tokens.verify(await sign(badKey))).rejects.toMatchObject(refused);
  });

  it("accepts a token a ClearML-shaped issuer signed with the shared secret (no access key)", async () => {
    const { tokens } = setup();
    const claims = clearmlClaims(T0 / 1000);
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .sign(SECRET);
    expect(await tokens.verify(token)).toEqual({
      identity: {
        user: claims.identity.user,
        company: claims.identity.company,
        role: "user",
        userName: "Some User",
        companyName: "Some Company",
      },
      accessKey: undefined,
      expiresAtMs: T0 + 3_600_000,
    });
  });

  it("accepts a token signed by PyJWT, the reference server's library, with its claims", async () => {
    const python = ".venv/bin/python";
    // The test venv (scripts/install-test-deps.sh) has PyJWT as the ClearML SDK's dependency.
    expect(existsSync(python), `${python} missing: run scripts/install-test-deps.sh`).toBe(true);
    const nowSec = Math.floor(Date.now() / 1000);
    const token = execFileSync(
      python,
      [
        "-c",
        "import jwt, json, sys; print(jwt.encode(json.loads(sys.argv[1]), sys.argv[2]))",
        JSON.stringify(clearmlClaims(nowSec, "guest")),
        SECRET_TEXT,
      ],
      { encoding: "utf8" },
    ).trim();
    const { tokens } = setup(parseTokenSecret(`${SECRET_TEXT}\n`, "test"));
    await expect(tokens.verify(token)).resolves.toMatchObject({
      identity: { role: "guest", userName: "Some User" },
      accessKey: undefined,
    });
  });

  it("needs exp, except on a ClearML system token (the reference never expires those)", async () => {
    const { tokens } = setup();
    const { exp: _, ...withoutExp } = clearmlClaims(T0 / 1000);
    const sign = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "HS256" }).sign(SECRET);
    await expect(tokens.verify(await sign(withoutExp))).rejects.toMatchObject({
      ...refused,
      message: "invalid token: token has no exp claim",
    });
    const system = { ...withoutExp, identity: { ...withoutExp.identity, role: "system" } };
    await expect(tokens.verify(await sign(system))).resolves.toMatchObject({
      expiresAtMs: undefined,
    });
    await expect(tokens.verify(await sign({ ...system, access_key: "AK1" }))).rejects.toMatchObject(
      refused,
    );
  });
});

describe("token secret", () => {
  it("is the file's trimmed text as UTF-8, at least 16 bytes", () => {
    expect(Buffer.from(parseTokenSecret("  0123456789abcdef\n", "f"))).toEqual(
      Buffer.from("0123456789abcdef"),
    );
    expect(() => parseTokenSecret("short\n", "f")).toThrow(
      "token secret file f: the secret must be at least 16 bytes, it has 5",
    );
  });

  it("is random per process without a file", () => {
    expect(Buffer.from(randomTokenSecret())).not.toEqual(Buffer.from(randomTokenSecret()));
    expect(randomTokenSecret()).toHaveLength(32);
  });
});
