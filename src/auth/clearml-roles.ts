/**
 * How a ClearML server's roles act in muster, for tokens a ClearML server issued with the shared
 * signing key (they carry no access key, so the token's role is all muster knows).
 * - `system`, `root`: the reference's internal, cross-company roles → admin (reads every company).
 * - `admin`, `superuser`, `user`: full rights within their own company → user. A ClearML company
 *   admin manages users, which muster has none of; it gets no view of other companies.
 * - `annotator`, `guest`: restricted users → viewer (reads only).
 * Any other role is refused: a token we cannot place gets no rights by accident.
 */
import type { Role } from "../core/identity.js";

const ROLE_OF: Readonly<Record<string, Role>> = {
  system: "admin",
  root: "admin",
  admin: "user",
  superuser: "user",
  user: "user",
  annotator: "viewer",
  guest: "viewer",
};

/** muster's role for a ClearML role, or undefined for a role ClearML does not have. */
export function roleOfClearmlRole(role: string): Role | undefined {
  return Object.hasOwn(ROLE_OF, role) ? ROLE_OF[role] : undefined;
}
