import type { DescService } from "@bufbuild/protobuf";
import {
  type ConnectRouter,
  createServiceImplSpec,
  type ServiceImpl,
  type ServiceImplSpec,
} from "@connectrpc/connect";
import type { Logger } from "pino";
import type { LoginService } from "../auth/login-service.js";
import { toApiError } from "../core/errors.js";
import { AuthService } from "../gen/muster/auth/v1/auth_pb.js";
import { QueuesService } from "../gen/muster/queues/v1/queues_pb.js";
import { WorkersService as WorkersServiceDesc } from "../gen/muster/workers/v1/workers_pb.js";
import type { QueuesApi } from "../queues/service.js";
import type { WorkersRpcApi } from "../workers/api.js";
import { callContextOf } from "./context.js";
import { toConnectError } from "./errors.js";
import { registerReflection } from "./reflection.js";

export interface RoutedServices {
  readonly workers: WorkersRpcApi;
  readonly queues: QueuesApi;
  readonly login: LoginService;
}

/**
 * Every RPC of the workers, queues and auth services, plus server reflection, on a Connect router.
 * The implementations are typed by the descriptors (ServiceImpl): an RPC left out is a compile
 * error. Who calls, and whether they may, is settled before a handler runs (auth-interceptor.ts).
 */
export function musterRoutes(
  services: RoutedServices,
  log: Logger,
  /** Further services served beside the API (health), listed by reflection too. */
  others: readonly DescService[] = [],
) {
  const { workersImpl, queuesImpl, authImpl } = serviceImpls(services, log);
  return (router: ConnectRouter): void => {
    router.service(WorkersServiceDesc, workersImpl);
    router.service(QueuesService, queuesImpl);
    router.service(AuthService, authImpl);
    registerReflection(router, [WorkersServiceDesc, QueuesService, AuthService, ...others]);
  };
}

/** The same implementations as specs, for the lean unary gRPC path (grpc-unary-fast.ts). */
export function musterServiceSpecs(services: RoutedServices, log: Logger): ServiceImplSpec[] {
  const { workersImpl, queuesImpl, authImpl } = serviceImpls(services, log);
  return [
    createServiceImplSpec<typeof WorkersServiceDesc>(WorkersServiceDesc, workersImpl),
    createServiceImplSpec<typeof QueuesService>(QueuesService, queuesImpl),
    createServiceImplSpec<typeof AuthService>(AuthService, authImpl),
  ];
}

/** Whether the call's messages are Protobuf binary (gRPC, gRPC-Web, Connect with proto). */
function isBinaryCall(contentType: string | null): boolean {
  return contentType !== null && !contentType.includes("json");
}

function serviceImpls(services: RoutedServices, log: Logger) {
  const { workers, queues, login } = services;
  /** Runs a unary call with the API's errors as Connect errors (code, message, subcode). */
  const unary = async <T>(call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (error) {
      throw toConnectError(toApiError(error, log));
    }
  };
  /** The same for a stream, which ends when the client goes away (the context's signal). */
  async function* stream<T>(call: () => AsyncIterable<T>): AsyncGenerator<T> {
    try {
      yield* call();
    } catch (error) {
      throw toConnectError(toApiError(error, log));
    }
  }
  const workersImpl: ServiceImpl<typeof WorkersServiceDesc> = {
    register: (request, ctx) => unary(() => workers.register(request, callContextOf(ctx))),
    unregister: (request, ctx) => unary(() => workers.unregister(request, callContextOf(ctx))),
    statusReport: (request, ctx) => unary(() => workers.statusReport(request, callContextOf(ctx))),
    getAll: (request, ctx) =>
      unary(() =>
        isBinaryCall(ctx.requestHeader.get("content-type"))
          ? workers.getAllEncoded(request, callContextOf(ctx))
          : workers.getAll(request, callContextOf(ctx)),
      ),
    getCount: (request, ctx) => unary(() => workers.getCount(request, callContextOf(ctx))),
    getStats: (request, ctx) => unary(() => workers.getStats(request, callContextOf(ctx))),
    getActivityReport: (request, ctx) =>
      unary(() => workers.getActivityReport(request, callContextOf(ctx))),
    getMetricKeys: (request, ctx) =>
      unary(() => workers.getMetricKeys(request, callContextOf(ctx))),
    watchWorkers: (request, ctx) =>
      stream(() => workers.watchWorkers(request, callContextOf(ctx), ctx.signal)),
  };
  const queuesImpl: ServiceImpl<typeof QueuesService> = {
    getAll: (request, ctx) => unary(() => queues.getAll(request, callContextOf(ctx))),
    getNextTask: (request, ctx) => unary(() => queues.getNextTask(request, callContextOf(ctx))),
  };
  const authImpl: ServiceImpl<typeof AuthService> = {
    login: (request, ctx) =>
      unary(() => login.login(request, ctx.requestHeader.get("authorization") ?? undefined)),
  };
  return { workersImpl, queuesImpl, authImpl };
}
