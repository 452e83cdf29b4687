// Credentials for the authentication tests: a file with two companies, each with a user and a
// viewer, and the headers clients send.
import { createHash } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LiveCredentials } from "../../src/auth/live-credentials.js";

export interface Key {
  readonly company: string;
  readonly user: string;
  readonly role: "user" | "viewer";
  readonly accessKey: string;
  readonly secretKey: string;
}

/** Two companies × {user, viewer}; the viewers' secrets are stored only as SHA-256. */
export const KEYS = {
  acmeUser: {
    company: "acme",
    user: "alice",
    role: "user",
    accessKey: "AKACME1",
    secretKey: "acme-user-secret-1",
  },
  acmeViewer: {
    company: "acme",
    user: "grafana",
    role: "viewer",
    accessKey: "AKACME2",
    secretKey: "acme-viewer-secret-2",
  },
  globexUser: {
    company: "globex",
    user: "bob",
    role: "user",
    accessKey: "AKGLOBEX1",
    secretKey: "globex-user-secret-1",
  },
  globexViewer: {
    company: "globex",
    user: "dash",
    role: "viewer",
    accessKey: "AKGLOBEX2",
    secretKey: "globex-viewer-secret-2",
  },
} as const satisfies Record<string, Key>;

/** The token signing key shared by the tests that forge or share tokens. */
export const TOKEN_SECRET = new TextEncoder().encode("a token secret shared with a ClearML server");

export const basic = (key: Pick<Key, "accessKey" | "secretKey">) =>
  `Basic ${Buffer.from(`${key.accessKey}:${key.secretKey}`, "latin1").toString("base64")}`;
export const bearer = (token: string) => `Bearer ${token}`;

/** The credentials file's JSON for some keys (every key by default). */
export function credentialsJson(keys: readonly Key[] = Object.values(KEYS)): string {
  const companies = [...new Set(keys.map((k) => k.company))].map((company) => ({
    id: company,
    name: company.toUpperCase(),
    queues: company === "acme" ? ["default", "gpu"] : [],
    users: keys
      .filter((k) => k.company === company)
      .map((k) => ({
        id: k.user,
        role: k.role,
        keys: [
          k.role === "viewer"
            ? {
                access_key: k.accessKey,
                secret_sha256: createHash("sha256").update(k.secretKey).digest("hex"),
              }
            : { access_key: k.accessKey, secret_key: k.secretKey },
        ],
      })),
  }));
  return JSON.stringify({ companies }, null, 2);
}

/** A credentials file in a temporary directory, rewritable (for reloads) and removable. */
export async function credentialsFile(keys?: readonly Key[]): Promise<{
  readonly path: string;
  write(text: string): Promise<void>;
  load(): Promise<LiveCredentials>;
  remove(): Promise<void>;
}> {
  const dir = await mkdtemp(join(tmpdir(), "muster-credentials-"));
  const path = join(dir, "credentials.json");
  await writeFile(path, credentialsJson(keys));
  return {
    path,
    write: (text) => writeFile(path, text),
    load: () => LiveCredentials.load(path),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Every secret a test used, to check none reached a log. */
export const ALL_SECRETS: readonly string[] = Object.values(KEYS).map((k) => k.secretKey);
