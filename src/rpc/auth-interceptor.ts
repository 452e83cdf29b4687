/**
 * Authentication and authorization of every RPC (gRPC, gRPC-Web, Connect, unary and streaming
 * alike), before its handler runs: the caller's identity from the Authorization header, the role's
 * right to the method, then the call context the handlers read. The public services (health,
 * reflection: src/core/public-endpoints.ts) need no credentials.
 */
import type { Interceptor } from "@connectrpc/connect";
import type { Logger } from "pino";
import type { Authenticator } from "../auth/authenticator.js";
import { toApiError } from "../core/errors.js";
import { PUBLIC_SERVICES } from "../core/public-endpoints.js";
import { callContextKey, clientIpKey } from "./context.js";
import { toConnectError } from "./errors.js";

export function authInterceptor(authenticator: Authenticator, log: Logger): Interceptor {
  return (next) => async (req) => {
    if (PUBLIC_SERVICES.includes(req.service.typeName)) return next(req);
    let identity: Awaited<ReturnType<Authenticator["authorizeCall"]>>;
    try {
      identity = await authenticator.authorizeCall(
        req.header.get("authorization") ?? undefined,
        req.method,
      );
    } catch (error) {
      throw toConnectError(toApiError(error, log));
    }
    const clientIp = req.contextValues.get(clientIpKey);
    req.contextValues.set(callContextKey, {
      identity,
      ...(clientIp === undefined ? {} : { clientIp }),
    });
    return next(req);
  };
}
