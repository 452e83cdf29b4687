import type { DescService } from "@bufbuild/protobuf";
import type { ConnectRouter, ServiceImpl } from "@connectrpc/connect";
import type { Logger } from "pino";
import { toApiError } from "../core/errors.js";
import { WorkersService as WorkersServiceDesc } from "../gen/muster/workers/v1/workers_pb.js";
import type { WorkersApi } from "../workers/api.js";
import { callContextOf } from "./context.js";
import { toConnectError } from "./errors.js";
import { registerReflection } from "./reflection.js";

/**
 * Every RPC of the workers service, plus server reflection, on a Connect router. The
 * implementation is typed by the descriptor (ServiceImpl): an RPC left out is a compile error.
 */
export function workersRoutes(
  service: WorkersApi,
  log: Logger,
  /** Further services served beside the API (health), listed by reflection too. */
  others: readonly DescService[] = [],
) {
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
  const impl: ServiceImpl<typeof WorkersServiceDesc> = {
    register: (request, ctx) => unary(() => service.register(request, callContextOf(ctx))),
    unregister: (request, ctx) => unary(() => service.unregister(request, callContextOf(ctx))),
    statusReport: (request, ctx) => unary(() => service.statusReport(request, callContextOf(ctx))),
    getAll: (request, ctx) => unary(() => service.getAll(request, callContextOf(ctx))),
    getCount: (request, ctx) => unary(() => service.getCount(request, callContextOf(ctx))),
    getStats: (request, ctx) => unary(() => service.getStats(request, callContextOf(ctx))),
    getActivityReport: (request, ctx) =>
      unary(() => service.getActivityReport(request, callContextOf(ctx))),
    getMetricKeys: (request, ctx) =>
      unary(() => service.getMetricKeys(request, callContextOf(ctx))),
    watchWorkers: (request, ctx) =>
      stream(() => service.watchWorkers(request, callContextOf(ctx), ctx.signal)),
  };
  return (router: ConnectRouter): void => {
    router.service(WorkersServiceDesc, impl);
    registerReflection(router, [WorkersServiceDesc, ...others]);
  };
}
