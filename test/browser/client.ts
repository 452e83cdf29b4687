// Runs in headless Chromium: calls muster with connect-web, over Connect JSON and gRPC-Web.
import {
  Code,
  ConnectError,
  createClient,
  type Interceptor,
  type Transport,
} from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-web";
import { AuthService } from "../../src/gen/muster/auth/v1/auth_pb.js";
import { WorkersService } from "../../src/gen/muster/workers/v1/workers_pb.js";

/** Sends an Authorization header with every call. */
const authorization =
  (value: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("Authorization", value);
    return next(req);
  };

/**
 * Logs in (AuthService/Login with Basic credentials) and runs a session with the token on both
 * transports; also reports what a call without credentials gets.
 */
async function loggedIn(baseUrl: string, accessKey: string, secretKey: string) {
  let refused: string | undefined;
  try {
    await createClient(WorkersService, createConnectTransport({ baseUrl })).getCount({});
  } catch (e) {
    refused = Code[ConnectError.from(e).code];
  }
  const basic = authorization(`Basic ${btoa(`${accessKey}:${secretKey}`)}`);
  const { token } = await createClient(
    AuthService,
    createConnectTransport({ baseUrl, interceptors: [basic] }),
  ).login({});
  const bearer = [authorization(`Bearer ${token}`)];
  return {
    refused,
    tokenSegments: token.split(".").length,
    connect: await session(
      createConnectTransport({ baseUrl, interceptors: bearer }),
      "browser-connect",
    ),
    grpcWeb: await session(
      createGrpcWebTransport({ baseUrl, interceptors: bearer }),
      "browser-grpc-web",
    ),
  };
}

async function session(transport: Transport, worker: string) {
  const client = createClient(WorkersService, transport);
  await client.register({ worker, tags: ["browser"] });
  await client.statusReport({
    worker,
    timestamp: BigInt(Date.now()),
    machineStats: { cpuUsage: [12.5], memoryUsed: 0 },
  });
  const { workers } = await client.getAll({ workerPattern: worker });
  const keys = await client.getMetricKeys({ workerIds: [worker] });
  let error: { code: string; message: string; subcode: string | null } | undefined;
  try {
    await client.register({ worker, timeout: -1 });
  } catch (e) {
    const ce = ConnectError.from(e);
    error = {
      code: Code[ce.code],
      message: ce.rawMessage,
      subcode: ce.metadata.get("muster-result-subcode"),
    };
  }
  await client.unregister({ worker });
  return {
    listed: workers.map((w) => ({ id: w.id, tags: w.tags })),
    categories: keys.categories.map((c) => c.name),
    error,
  };
}

Object.assign(globalThis, {
  runMuster: async (baseUrl: string) => ({
    connect: await session(createConnectTransport({ baseUrl }), "browser-connect"),
    grpcWeb: await session(createGrpcWebTransport({ baseUrl }), "browser-grpc-web"),
  }),
  runMusterLoggedIn: loggedIn,
  tryMuster: async (baseUrl: string) => {
    try {
      await createClient(WorkersService, createConnectTransport({ baseUrl })).getCount({});
      return "answered";
    } catch (e) {
      return `failed: ${ConnectError.from(e).message}`;
    }
  },
});
