/**
 * What each role may do. Roles decide between reading and writing; which company a call touches is
 * the caller's own, except that an admin may read any company. The edges ask here before calling
 * the service, on every protocol alike.
 */
import type { DescMethod } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { ApiError, Subcode } from "../core/errors.js";
import type { Identity, Role } from "../core/identity.js";
import { AuthService } from "../gen/muster/auth/v1/auth_pb.js";
import { QueuesService } from "../gen/muster/queues/v1/queues_pb.js";
import { WorkersService } from "../gen/muster/workers/v1/workers_pb.js";

export type Access = "read" | "write";

export const ROLES: readonly Role[] = ["user", "viewer", "admin"];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** An identity without a role is the open default's, a user. */
export function roleOf(identity: Identity): Role {
  return identity.role ?? "user";
}

/**
 * The RPCs a viewer may call. Everything else counts as a write, so a new RPC stays closed to
 * viewers until it is listed here.
 */
const READS: ReadonlySet<DescMethod> = new Set([
  WorkersService.method.getAll,
  WorkersService.method.getCount,
  WorkersService.method.getStats,
  WorkersService.method.getActivityReport,
  WorkersService.method.getMetricKeys,
  WorkersService.method.watchWorkers,
  // Listing queues; getNextTask is a write (on a ClearML server it takes a task off the queue).
  QueuesService.method.getAll,
  // Logging in (or refreshing a token) only restates what the caller already proved.
  AuthService.method.login,
]);

export function accessOf(method: DescMethod): Access {
  return READS.has(method) ? "read" : "write";
}

/** Throws PermissionDenied (HTTP 403) naming the role when it may not do `what`. */
export function authorize(identity: Identity, access: Access, what: string): void {
  const role = roleOf(identity);
  if (access === "write" && role === "viewer") {
    throw new ApiError(
      Code.PermissionDenied,
      Subcode.none,
      `role "viewer" may not call ${what}: viewers only read`,
    );
  }
}

/** Throws PermissionDenied unless the identity may call the method. */
export function authorizeMethod(identity: Identity, method: DescMethod): void {
  authorize(identity, accessOf(method), `${method.parent.typeName}/${method.name}`);
}

/**
 * Whether the identity may read another company's workers (`company` other than its own): only an
 * admin. Writes are always to the caller's own company.
 */
export function mayReadCompany(identity: Identity, company: string): boolean {
  return company === identity.company || roleOf(identity) === "admin";
}
