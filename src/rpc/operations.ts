import type { DescMethodUnary, Message } from "@bufbuild/protobuf";
import type { CallContext } from "../core/identity.js";
import { WorkersService as WorkersServiceDesc } from "../gen/muster/workers/v1/workers_pb.js";
import type { WorkersService } from "../workers/service.js";

/** One RPC of the workers service, as every transport calls it. */
export interface Operation {
  readonly method: DescMethodUnary;
  readonly invoke: (request: Message, ctx: CallContext) => Promise<Message>;
}

/**
 * Binds each unary RPC of the service descriptor to the service method of the same local name.
 * Fails at startup, not at call time, if the service lacks a method the proto declares.
 */
export function operationsOf(service: WorkersService): Operation[] {
  return WorkersServiceDesc.methods
    .filter((method): method is DescMethodUnary => method.methodKind === "unary")
    .map((method) => {
      const impl = (service as unknown as Record<string, unknown>)[method.localName];
      if (typeof impl !== "function") {
        throw new Error(`WorkersService has no method ${method.localName} for ${method.name}`);
      }
      return {
        method,
        invoke: (request, ctx) => impl.call(service, request, ctx) as Promise<Message>,
      };
    });
}
