// The one connect-web client of the page (Connect protocol, binary: the 10,000-worker snapshot is
// several times smaller than as JSON), carrying the session's token, and the sign-in retry rule.
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";
import { currentToken, forgetToken } from "./auth.js";
import { askToSignIn } from "./sign-in.js";

const bearer: Interceptor = (next) => (request) => {
  const token = currentToken();
  if (token !== undefined) request.header.set("Authorization", `Bearer ${token}`);
  return next(request);
};

/** Marks when muster starts answering WatchWorkers, so tests can tell its time from the page's. */
const timing: Interceptor = (next) => async (request) => {
  const response = await next(request);
  if (request.method.name === "WatchWorkers") performance.mark("watch-answered");
  return response;
};

export const workers = createClient(
  WorkersService,
  createConnectTransport({
    baseUrl: location.origin,
    useBinaryFormat: true,
    interceptors: [bearer, timing],
  }),
);

export function isUnauthenticated(error: unknown): boolean {
  return ConnectError.from(error).code === Code.Unauthenticated;
}

/**
 * Runs the call; when muster wants credentials (none yet, or an expired token) it drops the token,
 * shows the sign-in form, and runs the call again once signed in.
 */
export async function withSignIn<T>(call: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if (!isUnauthenticated(error)) throw error;
      forgetToken();
      await askToSignIn();
    }
  }
}

/** A short line for the user from any failure. */
export function messageOf(error: unknown): string {
  return ConnectError.from(error).rawMessage;
}
