/**
 * The unary RPCs as the ClearML layer calls them, bound to the typed service: a ClearML JSON body
 * in, the service's own method, ClearML JSON out. The table is typed by the descriptor, so an RPC
 * left out, or bound to the wrong service method, is a compile error.
 */
import type { DescMessage, DescMethodUnary, JsonObject, MessageShape } from "@bufbuild/protobuf";
import type { CallContext } from "../core/identity.js";
import { WorkersService as WorkersServiceDesc } from "../gen/muster/workers/v1/workers_pb.js";
import type { WorkersApi, WorkersUnaryMethod } from "../workers/api.js";
import { messageFromClearml } from "./json.js";
import { messageToClearmlInSlices } from "./json-slices.js";

/** One RPC of the workers service, as the ClearML layer calls it. */
export interface Operation {
  readonly method: DescMethodUnary;
  /** Parses the body (a 400 naming the field at fault), calls the service, writes the answer. */
  call(body: unknown, ctx: CallContext): Promise<JsonObject>;
}

function bind<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  invoke: (request: MessageShape<I>, ctx: CallContext) => Promise<MessageShape<O>>,
): Operation {
  return {
    method,
    call: async (body, ctx) =>
      messageToClearmlInSlices(
        method.output,
        await invoke(messageFromClearml(method.input, body), ctx),
      ),
  };
}

export function operationsOf(service: WorkersApi): Record<WorkersUnaryMethod, Operation> {
  const rpc = WorkersServiceDesc.method;
  return {
    register: bind(rpc.register, (request, ctx) => service.register(request, ctx)),
    unregister: bind(rpc.unregister, (request, ctx) => service.unregister(request, ctx)),
    statusReport: bind(rpc.statusReport, (request, ctx) => service.statusReport(request, ctx)),
    getAll: bind(rpc.getAll, (request, ctx) => service.getAll(request, ctx)),
    getCount: bind(rpc.getCount, (request, ctx) => service.getCount(request, ctx)),
    getStats: bind(rpc.getStats, (request, ctx) => service.getStats(request, ctx)),
    getActivityReport: bind(rpc.getActivityReport, (request, ctx) =>
      service.getActivityReport(request, ctx),
    ),
    getMetricKeys: bind(rpc.getMetricKeys, (request, ctx) => service.getMetricKeys(request, ctx)),
  };
}
