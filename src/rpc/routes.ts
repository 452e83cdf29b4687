import type { ConnectRouter } from "@connectrpc/connect";
import type { Logger } from "pino";
import { WorkersService as WorkersServiceDesc } from "../gen/muster/workers/v1/workers_pb.js";
import type { WorkersService } from "../workers/service.js";
import { callContextOf } from "./context.js";
import { toApiError, toConnectError } from "./errors.js";
import type { Operation } from "./operations.js";
import { registerReflection } from "./reflection.js";

/** Every RPC of the workers service, plus server reflection, on a Connect router. */
export function workersRoutes(
  operations: readonly Operation[],
  service: Pick<WorkersService, "watchWorkers">,
  log: Logger,
) {
  return (router: ConnectRouter): void => {
    for (const { method, invoke } of operations) {
      router.rpc(method, async (request, ctx) => {
        try {
          return await invoke(request, callContextOf(ctx));
        } catch (error) {
          throw toConnectError(toApiError(error, log));
        }
      });
    }
    // The one streaming RPC; operations bind the unary ones. It ends when the client goes away.
    router.rpc(WorkersServiceDesc.method.watchWorkers, async function* (request, ctx) {
      try {
        yield* service.watchWorkers(request, callContextOf(ctx), ctx.signal);
      } catch (error) {
        throw toConnectError(toApiError(error, log));
      }
    });
    registerReflection(router, [WorkersServiceDesc]);
  };
}
