// The credentials file: accepted shapes, each bad entry named, secrets in clear or hashed, reload.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CredentialSet, CredentialsError, loadCredentials } from "../../src/auth/credentials.js";
import { hashSecret, runHashSecret } from "../../src/auth/hash-secret.js";
import { LiveCredentials } from "../../src/auth/live-credentials.js";

const hex = (secret: string) => createHash("sha256").update(secret).digest("hex");

/** The example of issue 8, with the viewer's secret hashed. */
function goodFile() {
  return {
    companies: [
      {
        id: "acme",
        name: "Acme",
        queues: ["default", "gpu"],
        users: [
          {
            id: "alice",
            name: "Alice",
            role: "user",
            keys: [{ access_key: "AKACME1", secret_key: "s3cret" }],
          },
          {
            id: "grafana",
            name: "Dashboards",
            role: "viewer",
            keys: [{ access_key: "AKACME2", secret_sha256: hex("view-only") }],
          },
        ],
      },
      {
        id: "globex",
        users: [
          {
            id: "ops",
            role: "admin",
            keys: [
              { access_key: "AKGLOBEX1", secret_key: "one" },
              { access_key: "AKGLOBEX2", secret_sha256: hex("two").toUpperCase() },
            ],
          },
        ],
      },
    ],
  };
}

function parse(value: unknown): CredentialSet {
  return CredentialSet.parse(JSON.stringify(value), "creds.json");
}

type File = ReturnType<typeof goodFile>;

/** The good file with one change made by `edit`. */
function bad(edit: (file: File & Record<string, unknown>) => void): unknown {
  const file = goodFile() as File & Record<string, unknown>;
  edit(file);
  return file;
}

describe("credentials file", () => {
  it("indexes every key with its identity, names defaulting to ids", () => {
    const set = parse(goodFile());
    expect(set.key("AKACME2")).toEqual({
      accessKey: "AKACME2",
      identity: { company: "acme", user: "grafana", role: "viewer" },
      userName: "Dashboards",
      companyName: "Acme",
    });
    expect(set.key("AKGLOBEX2")).toMatchObject({
      identity: { company: "globex", user: "ops", role: "admin" },
      userName: "ops",
      companyName: "globex",
    });
    expect(set.key("nope")).toBeUndefined();
    expect([...set.companies.values()]).toEqual([
      { id: "acme", name: "Acme", queues: ["default", "gpu"] },
      { id: "globex", name: "globex", queues: [] },
    ]);
  });

  it("checks clear and hashed secrets (either hex case)", () => {
    const set = parse(goodFile());
    expect(set.check("AKACME1", "s3cret")?.identity.user).toBe("alice");
    expect(set.check("AKACME2", "view-only")?.identity.user).toBe("grafana");
    expect(set.check("AKGLOBEX2", "two")?.identity.user).toBe("ops");
    expect(set.check("AKACME1", "s3cret ")).toBeUndefined();
    expect(set.check("AKACME1", "")).toBeUndefined();
    expect(set.check("AKACME2", hex("view-only"))).toBeUndefined();
    expect(set.check("AKNOPE", "s3cret")).toBeUndefined();
  });

  it.each<[string, unknown, string]>([
    ["not JSON", "{", "creds.json: not JSON: "],
    [
      "an unknown field",
      bad((f) => Object.assign(f.companies[0]?.users[1] ?? {}, { rol: "user" })),
      'creds.json: companies[0].users[1]: cannot decode message muster.config.v1.User from JSON: key "rol" is unknown',
    ],
    [
      "a field of the wrong type",
      bad((f) => Object.assign(f.companies[1] ?? {}, { queues: "default" })),
      "creds.json: companies[1]: cannot decode",
    ],
    ["no companies", { companies: [] }, "creds.json: companies: must contain at least 1 item(s)"],
    [
      "an empty company id",
      bad((f) => Object.assign(f.companies[1] ?? {}, { id: "" })),
      "companies[1].id: must be at least 1 characters",
    ],
    [
      "a bad role",
      bad((f) => Object.assign(f.companies[0]?.users[1] ?? {}, { role: "owner" })),
      "companies[0].users[1].role: must be in list [user, viewer, admin]",
    ],
    [
      "a missing role",
      bad((f) => {
        const user: Record<string, unknown> = f.companies[0]?.users[0] ?? {};
        delete user.role;
      }),
      "companies[0].users[0].role: must be in list [user, viewer, admin]",
    ],
    [
      "a user without keys",
      bad((f) => Object.assign(f.companies[0]?.users[0] ?? {}, { keys: [] })),
      "companies[0].users[0].keys: must contain at least 1 item(s)",
    ],
    [
      "a short sha256",
      bad((f) => Object.assign(f.companies[0]?.users[1]?.keys[0] ?? {}, { secret_sha256: "abc" })),
      "companies[0].users[1].keys[0].secret_sha256: must be 64 hex digits",
    ],
    [
      "a non-hex sha256",
      bad((f) =>
        Object.assign(f.companies[0]?.users[1]?.keys[0] ?? {}, { secret_sha256: "g".repeat(64) }),
      ),
      "companies[0].users[1].keys[0].secret_sha256: must be 64 hex digits",
    ],
    [
      "a key without a secret",
      bad((f) => {
        const key: Record<string, unknown> = f.companies[1]?.users[0]?.keys[0] ?? {};
        delete key.secret_key;
      }),
      "companies[1].users[0].keys[0].secret: exactly one field is required in oneof",
    ],
    [
      "a key with both secrets",
      bad((f) =>
        Object.assign(f.companies[0]?.users[0]?.keys[0] ?? {}, { secret_sha256: hex("x") }),
      ),
      "companies[0].users[0].keys[0]: cannot decode oneof muster.config.v1.AccessKey.secret from JSON: oneof set multiple times by secret_key and secret_sha256",
    ],
    [
      "an access key with a colon",
      bad((f) => Object.assign(f.companies[0]?.users[0]?.keys[0] ?? {}, { access_key: "AK:1" })),
      "companies[0].users[0].keys[0].access_key: must be printable ASCII without spaces or ':'",
    ],
    [
      "a queue named twice",
      bad((f) => Object.assign(f.companies[0] ?? {}, { queues: ["gpu", "gpu"] })),
      "companies[0].queues: repeated value must contain unique items",
    ],
    [
      "a company twice",
      bad((f) => Object.assign(f.companies[1] ?? {}, { id: "acme" })),
      'companies[1].id: company "acme" appears twice',
    ],
    [
      "a user twice in a company",
      bad((f) => Object.assign(f.companies[0]?.users[1] ?? {}, { id: "alice" })),
      'companies[0].users[1].id: user "alice" appears twice in company "acme"',
    ],
    [
      "an access key twice across companies",
      bad((f) => Object.assign(f.companies[1]?.users[0]?.keys[1] ?? {}, { access_key: "AKACME1" })),
      'companies[1].users[0].keys[1].access_key: "AKACME1" is already the key of companies[0].users[0]',
    ],
  ])("refuses %s, naming the entry", (_name, file, message) => {
    const text = typeof file === "string" ? file : JSON.stringify(file);
    expect(() => CredentialSet.parse(text, "creds.json")).toThrow(CredentialsError);
    expect(() => CredentialSet.parse(text, "creds.json")).toThrow(message);
  });
});

describe("credentials on disk", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "muster-creds-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("names the file when it cannot be read", async () => {
    const path = join(dir, "missing.json");
    await expect(loadCredentials(path)).rejects.toThrow(`credentials file ${path}: ENOENT`);
  });

  it("reloads a good file at once and keeps the old credentials when the new file is bad", async () => {
    const path = join(dir, "creds.json");
    await writeFile(path, JSON.stringify(goodFile()));
    const live = await LiveCredentials.load(path);
    expect(live.current.key("AKACME1")).toBeDefined();

    const removed = goodFile();
    removed.companies[0]?.users.splice(0, 1);
    await writeFile(path, JSON.stringify(removed));
    expect(await live.reload()).toEqual({ ok: true });
    expect(live.current.key("AKACME1")).toBeUndefined();
    expect(live.current.key("AKACME2")).toBeDefined();

    await writeFile(path, '{"companies": [{"id": ""}]}');
    const result = await live.reload();
    expect(result).toMatchObject({ ok: false });
    expect(result.ok ? "" : result.reason).toContain(`credentials file ${path}: companies[0].id`);
    expect(live.current.key("AKACME2")).toBeDefined();
  });
});

describe("hash-secret", () => {
  it("prints the secret_sha256 the file accepts, without the trailing newline", async () => {
    expect(hashSecret("view-only\n")).toBe(hex("view-only"));
    expect(hashSecret("view-only")).toBe(hex("view-only"));
    expect(() => hashSecret("\n")).toThrow("no secret on standard input");
    expect(() => hashSecret("a\nb\n")).toThrow("one secret per call");

    let out = "";
    let err = "";
    const sink = (write: (s: string) => void) =>
      new Writable({
        write(chunk, _encoding, done) {
          write(String(chunk));
          done();
        },
      });
    const stdout = sink((s) => {
      out += s;
    });
    const stderr = sink((s) => {
      err += s;
    });
    expect(await runHashSecret(Readable.from(["s3cr", "et\n"]), stdout, stderr)).toBe(0);
    expect(out).toBe(`${hex("s3cret")}\n`);
    expect(await runHashSecret(Readable.from([""]), stdout, stderr)).toBe(2);
    expect(err).toBe("muster hash-secret: no secret on standard input\n");
    const file = goodFile();
    Object.assign(file.companies[0]?.users[0]?.keys[0] ?? {}, {
      secret_key: undefined,
      secret_sha256: out.trim(),
    });
    expect(parse(file).check("AKACME1", "s3cret")?.identity.user).toBe("alice");
  });
});
