/**
 * Session tokens: HS256 JWTs with the claims of the ClearML server's tokens, so the real SDK and
 * agent accept muster's tokens, and muster accepts a ClearML server's tokens when both share the
 * signing key. Verification trusts only HS256 with our key; what the token's identity may do is the
 * authenticator's business.
 */

import { Code } from "@connectrpc/connect";
import { errors, type JWTPayload, jwtVerify, SignJWT } from "jose";
import type { Clock } from "../core/clock.js";
import { ApiError, Subcode } from "../core/errors.js";

/** The only algorithm muster signs with and accepts (the ClearML server's). */
export const TOKEN_ALGORITHM = "HS256";

/** The reference's default lifetime: 30 days. */
export const DEFAULT_EXPIRATION_SEC = 30 * 24 * 3600;

/** Skew tolerated between the clocks of instances sharing a key, for `exp`. */
const CLOCK_TOLERANCE_SEC = 30;

/** The `identity` claim, as the ClearML server writes it. */
export interface TokenIdentity {
  readonly user: string;
  readonly company: string;
  /** muster's role in muster's tokens; a ClearML role in a ClearML server's tokens. */
  readonly role: string;
  readonly userName: string;
  readonly companyName: string;
}

export interface TokenOptions {
  /** The HS256 key (a ClearML server's `secure.auth.token_secret` is its UTF-8 bytes). */
  readonly secret: Uint8Array;
  readonly clock: Clock;
  /** The newest API version muster answers as; the SDK needs at least "2.23". */
  readonly apiVersion: string;
  readonly serverVersion: string;
  readonly serverBuild: string;
  /** The reference's `env` claim (its deployment name). */
  readonly env: string;
}

export interface IssueRequest {
  readonly identity: TokenIdentity;
  /** The access key the caller proved; absent for a refreshed ClearML server token. */
  readonly accessKey: string | undefined;
  /** Lifetime in seconds; undefined means DEFAULT_EXPIRATION_SEC. */
  readonly expirationSec: number | undefined;
}

export interface VerifiedToken {
  readonly identity: TokenIdentity;
  /** Set in muster's tokens (checked against the live keys); absent in a ClearML server's. */
  readonly accessKey: string | undefined;
  /** Epoch milliseconds; undefined only for a ClearML `system` token, which never expires. */
  readonly expiresAtMs: number | undefined;
}

/** Signs and verifies tokens with one key. */
export class Tokens {
  constructor(private readonly options: TokenOptions) {}

  async issue(request: IssueRequest): Promise<string> {
    const { clock, secret } = this.options;
    const iat = Math.floor(clock.now() / 1000);
    const exp = iat + (request.expirationSec ?? DEFAULT_EXPIRATION_SEC);
    const { identity } = request;
    return new SignJWT({
      identity: {
        user: identity.user,
        company: identity.company,
        role: identity.role,
        user_name: identity.userName,
        company_name: identity.companyName,
      },
      ...(request.accessKey === undefined ? {} : { access_key: request.accessKey }),
      env: this.options.env,
      api_version: this.options.apiVersion,
      server_version: this.options.serverVersion,
      server_build: this.options.serverBuild,
      feature_set: "basic",
    })
      .setProtectedHeader({ alg: TOKEN_ALGORITHM, typ: "JWT" })
      .setIssuedAt(iat)
      .setExpirationTime(exp)
      .sign(secret);
  }

  /** The token's claims if we signed it and it has not expired; else ApiError 401/30. */
  async verify(token: string): Promise<VerifiedToken> {
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.options.secret, {
        algorithms: [TOKEN_ALGORITHM],
        currentDate: new Date(this.options.clock.now()),
        clockTolerance: CLOCK_TOLERANCE_SEC,
      }));
    } catch (error) {
      throw badToken(reasonOf(error));
    }
    const identity = identityOf(payload.identity);
    if (identity === undefined) throw badToken("token has no valid identity claim");
    const accessKey = payload.access_key;
    if (accessKey !== undefined && (typeof accessKey !== "string" || accessKey === "")) {
      throw badToken("token has an invalid access_key claim");
    }
    const exp = payload.exp;
    // The reference issues tokens without `exp` only to its internal `system` role; ours always
    // expire, so a token of ours without one was not made by muster.
    if (exp === undefined && (accessKey !== undefined || identity.role !== "system")) {
      throw badToken("token has no exp claim");
    }
    return {
      identity,
      accessKey,
      expiresAtMs: exp === undefined ? undefined : exp * 1000,
    };
  }
}

export function badToken(reason: string): ApiError {
  return new ApiError(Code.Unauthenticated, Subcode.badToken, `invalid token: ${reason}`);
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JOSEAlgNotAllowed) return "only HS256 tokens are accepted";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "bad signature";
  if (error instanceof errors.JOSEError) return error.message;
  return "not a JWT";
}

function identityOf(claim: unknown): TokenIdentity | undefined {
  if (typeof claim !== "object" || claim === null) return undefined;
  const { user, company, role, user_name, company_name } = claim as Record<string, unknown>;
  if (typeof user !== "string" || user === "") return undefined;
  if (typeof company !== "string" || company === "") return undefined;
  if (typeof role !== "string") return undefined;
  return {
    user,
    company,
    role,
    userName: typeof user_name === "string" ? user_name : user,
    companyName: typeof company_name === "string" ? company_name : company,
  };
}
