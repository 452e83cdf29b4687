import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";
import type { CallContext } from "../core/identity.js";

/**
 * Set per call by the authentication interceptor (auth-interceptor.ts) once the caller is known and
 * may make the call; read by every handler. Unset means the interceptor did not run: fail closed.
 */
export const callContextKey = createContextKey<CallContext | undefined>(undefined, {
  description: "muster call context",
});

/** The client's address, set per request by the server from headers and socket. */
export const clientIpKey = createContextKey<string | undefined>(undefined, {
  description: "muster client address",
});

export function callContextOf(ctx: HandlerContext): CallContext {
  const context = ctx.values.get(callContextKey);
  if (context === undefined) {
    throw new ConnectError("call reached a handler unauthenticated", Code.Internal);
  }
  return context;
}

type HeaderValue = string | string[] | undefined;

/** The client's address: X-Forwarded-For's first hop, else X-Real-IP, else the socket's peer. */
export function clientIpOf(
  headers: Record<string, HeaderValue>,
  socketAddress: string | undefined,
): string | undefined {
  const forwarded = first(headers["x-forwarded-for"])?.split(",")[0]?.trim();
  if (forwarded) return forwarded;
  const real = first(headers["x-real-ip"])?.trim();
  if (real) return real;
  return socketAddress?.startsWith("::ffff:") ? socketAddress.slice(7) : socketAddress;
}

function first(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
