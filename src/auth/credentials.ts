/**
 * The credentials file (`--credentials FILE`): read with the generated schema, checked with the
 * protovalidate rules in proto/muster/config/v1/credentials.proto and the rules a schema cannot say
 * (ids and access keys unique), then indexed by access key. Every error names the bad entry.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { readFile } from "node:fs/promises";
import { pathToString } from "@bufbuild/protobuf/reflect";
import { createValidator } from "@bufbuild/protovalidate";
import type { Identity, Role } from "../core/identity.js";
import { type Credentials, CredentialsSchema } from "../gen/muster/config/v1/credentials_pb.js";
import { decodeJson } from "./decode-json.js";
import { isRole } from "./permissions.js";

export class CredentialsError extends Error {
  override readonly name = "CredentialsError";
}

export interface CompanyEntry {
  readonly id: string;
  readonly name: string;
  /** The queues its agents may listen to; empty means the server's default queues. */
  readonly queues: readonly string[];
}

/** What one access key proves. */
export interface KeyEntry {
  readonly accessKey: string;
  readonly identity: Identity & { readonly role: Role };
  readonly userName: string;
  readonly companyName: string;
}

/** One loaded credentials file: immutable, swapped whole on reload. */
export class CredentialSet {
  private constructor(
    readonly companies: ReadonlyMap<string, CompanyEntry>,
    private readonly keys: ReadonlyMap<string, { entry: KeyEntry; digest: Buffer }>,
  ) {}

  /** Parses and checks a file's text; `source` names it in errors. */
  static parse(text: string, source: string): CredentialSet {
    let message: Credentials;
    try {
      message = decodeJson(CredentialsSchema, text);
    } catch (error) {
      throw new CredentialsError(`${source}: ${error instanceof Error ? error.message : error}`);
    }
    const result = validator.validate(CredentialsSchema, message);
    if (result.kind === "error") throw new CredentialsError(`${source}: ${result.error.message}`);
    if (result.kind === "invalid") {
      const problems = result.violations.map((v) => {
        const field = pathToString(v.field);
        return field === "" ? v.message : `${field}: ${v.message}`;
      });
      throw new CredentialsError(`${source}: ${problems.join("; ")}`);
    }
    return CredentialSet.index(message, source);
  }

  /** How many access keys the file gives (for the startup and reload log lines). */
  get keyCount(): number {
    return this.keys.size;
  }

  /** The key entry for an access key and its secret, or undefined; constant time in the secret. */
  check(accessKey: string, secretKey: string): KeyEntry | undefined {
    const key = this.keys.get(accessKey);
    const digest = sha256(secretKey);
    // Compare even for an unknown key, so the answer takes as long either way.
    const same = timingSafeEqual(digest, key?.digest ?? UNKNOWN_KEY_DIGEST);
    return same && key !== undefined ? key.entry : undefined;
  }

  /** The live entry of an access key (tokens carry the key; a removed key's tokens fail here). */
  key(accessKey: string): KeyEntry | undefined {
    return this.keys.get(accessKey)?.entry;
  }

  private static index(message: Credentials, source: string): CredentialSet {
    const companies = new Map<string, CompanyEntry>();
    const keys = new Map<string, { entry: KeyEntry; digest: Buffer }>();
    const keyPaths = new Map<string, string>();
    const problems: string[] = [];
    message.companies.forEach((company, c) => {
      const companyPath = `companies[${c}]`;
      if (companies.has(company.id)) {
        problems.push(`${companyPath}.id: company "${company.id}" appears twice`);
      }
      const companyName = company.name === "" ? company.id : company.name;
      companies.set(company.id, { id: company.id, name: companyName, queues: company.queues });
      const users = new Set<string>();
      company.users.forEach((user, u) => {
        const userPath = `${companyPath}.users[${u}]`;
        if (users.has(user.id)) {
          problems.push(
            `${userPath}.id: user "${user.id}" appears twice in company "${company.id}"`,
          );
        }
        users.add(user.id);
        // protovalidate has checked the role already; the guard tells the compiler.
        const role: Role = isRole(user.role) ? user.role : "viewer";
        user.keys.forEach((key, k) => {
          const keyPath = `${userPath}.keys[${k}]`;
          const first = keyPaths.get(key.accessKey);
          if (first !== undefined) {
            problems.push(`${keyPath}.access_key: "${key.accessKey}" is already ${first}`);
            return;
          }
          keyPaths.set(key.accessKey, `the key of ${userPath}`);
          const digest =
            key.secret.case === "secretSha256"
              ? Buffer.from(key.secret.value, "hex")
              : sha256(key.secret.value ?? "");
          keys.set(key.accessKey, {
            digest,
            entry: {
              accessKey: key.accessKey,
              identity: { company: company.id, user: user.id, role },
              userName: user.name === "" ? user.id : user.name,
              companyName,
            },
          });
        });
      });
    });
    if (problems.length > 0) throw new CredentialsError(`${source}: ${problems.join("; ")}`);
    return new CredentialSet(companies, keys);
  }
}

/** Reads and checks a credentials file; throws CredentialsError naming the file and the entry. */
export async function loadCredentials(path: string): Promise<CredentialSet> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CredentialsError(
      `credentials file ${path}: ${error instanceof Error ? error.message : error}`,
    );
  }
  return CredentialSet.parse(text, `credentials file ${path}`);
}

/** The SHA-256 of a secret's UTF-8 bytes, as `secret_sha256` holds it (in hex). */
export function sha256(secret: string): Buffer {
  return createHash("sha256").update(secret, "utf8").digest();
}

const validator = createValidator();
const UNKNOWN_KEY_DIGEST = Buffer.alloc(32);
