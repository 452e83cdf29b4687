/**
 * Who is calling. Every operation is scoped by company (what a caller can see) and user (whose
 * registration it is). Without a credentials file, every caller is the default identity.
 */
export interface Identity {
  readonly company: string;
  readonly user: string;
  /** What the caller may do (src/auth/permissions.ts); absent means "user", the open default. */
  readonly role?: Role;
}

/** "user": everything in its company; "viewer": reads only; "admin": a user who reads every company. */
export type Role = "user" | "viewer" | "admin";

export const DEFAULT_IDENTITY: Identity = { company: "default", user: "default" };

/** What the service knows about a call besides its request message. */
export interface CallContext {
  readonly identity: Identity;
  /** The client's address as seen by the server (after X-Forwarded-For / X-Real-IP). */
  readonly clientIp?: string;
}
