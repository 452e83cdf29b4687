import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { type CallContext, DEFAULT_IDENTITY } from "../core/identity.js";

/** Set per request by the server from headers and socket; read by every handler. */
export const callContextKey = createContextKey<CallContext>(
  { identity: DEFAULT_IDENTITY },
  { description: "muster call context" },
);

export function callContextOf(ctx: HandlerContext): CallContext {
  return ctx.values.get(callContextKey);
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
