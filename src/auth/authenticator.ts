/**
 * Who a call is, from its `Authorization` header, the same on every protocol: `Basic
 * base64(access_key:secret_key)` checked against the live credentials, or `Bearer <token>` from
 * `auth.login`. Also issues those tokens. Without a credentials file (open mode) every caller is
 * the default identity and any key logs in; tokens are still verified, since a bad one is a
 * client's mistake worth telling.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ApiError, Subcode } from "../core/errors.js";
import { DEFAULT_IDENTITY, type Identity, type Role } from "../core/identity.js";
import { roleOfClearmlRole } from "./clearml-roles.js";
import type { KeyEntry } from "./credentials.js";
import type { LiveCredentials } from "./live-credentials.js";
import { authorizeMethod } from "./permissions.js";
import { badToken, type TokenIdentity, type Tokens, type VerifiedToken } from "./token.js";

/** An identity that always says its role. */
export type RoledIdentity = Identity & { readonly role: Role };

export const OPEN_IDENTITY: RoledIdentity = { ...DEFAULT_IDENTITY, role: "user" };

export interface AuthenticatorOptions {
  readonly tokens: Tokens;
  /** The credentials file's live contents; undefined runs open (see the module comment). */
  readonly credentials: LiveCredentials | undefined;
}

type Presented =
  | { readonly kind: "none" }
  | { readonly kind: "basic"; readonly accessKey: string; readonly secretKey: string }
  | { readonly kind: "bearer"; readonly token: string };

/** What a call proved, with what a new token needs. */
interface Principal {
  readonly identity: RoledIdentity;
  /** The claim for a new token: names and, for a ClearML server's token, its own role. */
  readonly claim: TokenIdentity;
  readonly accessKey: string | undefined;
}

export class Authenticator {
  constructor(private readonly options: AuthenticatorOptions) {}

  /** Whether callers must prove who they are (a credentials file is loaded). */
  get open(): boolean {
    return this.options.credentials === undefined;
  }

  /**
   * The caller's identity from the Authorization header's value (undefined when absent). Throws
   * ApiError: 401/20 with no credentials, 401/22 with bad ones, 401/30 with a bad token.
   */
  async authenticate(authorization: string | undefined): Promise<RoledIdentity> {
    return (await this.principal(authorization)).identity;
  }

  /**
   * The identity of a call to `method`, once it may make it: what `authenticate` throws, or
   * PermissionDenied (403) naming the role. Every protocol's edge asks here before the service.
   */
  async authorizeCall(
    authorization: string | undefined,
    method: DescMethod,
  ): Promise<RoledIdentity> {
    const identity = await this.authenticate(authorization);
    authorizeMethod(identity, method);
    return identity;
  }

  /**
   * `auth.login`: a token for what the header proves (Basic credentials, or a token to refresh),
   * living `expirationSec` seconds (undefined: the default, 30 days).
   */
  async login(
    authorization: string | undefined,
    expirationSec: number | undefined,
  ): Promise<string> {
    const principal = await this.principal(authorization);
    return this.options.tokens.issue({
      identity: principal.claim,
      accessKey: principal.accessKey,
      expirationSec,
    });
  }

  private async principal(authorization: string | undefined): Promise<Principal> {
    const presented = parseAuthorization(authorization);
    const credentials = this.options.credentials?.current;
    if (presented.kind === "bearer") {
      const token = await this.options.tokens.verify(presented.token);
      if (credentials === undefined) return openPrincipal(token.accessKey);
      if (token.accessKey === undefined) return foreignPrincipal(token);
      const entry = credentials.key(token.accessKey);
      if (entry === undefined) throw badToken(`access key ${token.accessKey} no longer exists`);
      if (
        entry.identity.company !== token.identity.company ||
        entry.identity.user !== token.identity.user
      ) {
        throw badToken(`access key ${token.accessKey} now belongs to another user`);
      }
      return keyPrincipal(entry);
    }
    if (credentials === undefined) {
      return openPrincipal(presented.kind === "basic" ? presented.accessKey : undefined);
    }
    if (presented.kind === "none") {
      throw new ApiError(
        Code.Unauthenticated,
        Subcode.noCredentials,
        "missing credentials: send Authorization: Basic base64(access_key:secret_key) or Bearer <token from auth.login>",
      );
    }
    const entry = credentials.check(presented.accessKey, presented.secretKey);
    if (entry === undefined) {
      throw badCredentials("unknown access key or wrong secret key");
    }
    return keyPrincipal(entry);
  }
}

/** Splits the header; throws 401/22 when it is there but unusable. */
export function parseAuthorization(header: string | undefined): Presented {
  const value = header?.trim() ?? "";
  if (value === "") return { kind: "none" };
  const match = /^(\S+)\s+(\S+)$/.exec(value);
  const scheme = match?.[1]?.toLowerCase();
  const param = match?.[2] ?? "";
  if (scheme === "bearer") return { kind: "bearer", token: param };
  if (scheme !== "basic") {
    throw badCredentials("the Authorization header must be Basic <credentials> or Bearer <token>");
  }
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(param)) {
    throw badCredentials("Basic credentials are not base64");
  }
  // Latin-1, as the reference decodes them and as Python's requests encodes them.
  const decoded = Buffer.from(param, "base64").toString("latin1");
  const colon = decoded.indexOf(":");
  if (colon < 0) throw badCredentials("Basic credentials must be access_key:secret_key");
  return {
    kind: "basic",
    accessKey: decoded.slice(0, colon),
    secretKey: decoded.slice(colon + 1),
  };
}

function badCredentials(reason: string): ApiError {
  return new ApiError(Code.Unauthenticated, Subcode.badCredentials, `bad credentials: ${reason}`);
}

function openPrincipal(accessKey: string | undefined): Principal {
  const { company, user, role } = OPEN_IDENTITY;
  return {
    identity: OPEN_IDENTITY,
    claim: { company, user, role, userName: user, companyName: company },
    accessKey: accessKey === "" ? undefined : accessKey,
  };
}

function keyPrincipal(entry: KeyEntry): Principal {
  const { company, user, role } = entry.identity;
  return {
    identity: entry.identity,
    claim: { company, user, role, userName: entry.userName, companyName: entry.companyName },
    accessKey: entry.accessKey,
  };
}

/** A ClearML server's token: its role is mapped; a refreshed token keeps the original claim. */
function foreignPrincipal(token: VerifiedToken): Principal {
  const role = roleOfClearmlRole(token.identity.role);
  if (role === undefined) {
    throw badToken(`role "${token.identity.role}" is not a ClearML role muster knows`);
  }
  const { company, user } = token.identity;
  return { identity: { company, user, role }, claim: token.identity, accessKey: undefined };
}
