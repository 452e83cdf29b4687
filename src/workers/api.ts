/**
 * The workers service's type, derived from the generated descriptor the way connect-es derives
 * ServiceImpl: one method per RPC with the request and response types the proto declares, but
 * taking muster's CallContext instead of a transport's. The service class implements it (an RPC
 * it lacks is a compile error) and both edges, Connect and ClearML, bind to it.
 */
import type {
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageShape,
} from "@bufbuild/protobuf";
import type { CallContext } from "../core/identity.js";
import type { WorkersService as WorkersServiceDesc } from "../gen/muster/workers/v1/workers_pb.js";

export type ServiceApi<Desc extends DescService> = {
  [K in keyof Desc["method"]]: Desc["method"][K] extends DescMethodUnary<infer I, infer O>
    ? (request: MessageShape<I>, ctx: CallContext) => Promise<MessageShape<O>>
    : Desc["method"][K] extends DescMethodServerStreaming<infer I, infer O>
      ? (
          request: MessageShape<I>,
          ctx: CallContext,
          /** Aborts when the client goes away or the server shuts down: the stream ends. */
          signal: AbortSignal,
        ) => AsyncIterable<MessageShape<O>>
      : never;
};

export type WorkersApi = ServiceApi<typeof WorkersServiceDesc>;

/** The unary RPCs: the ones the ClearML HTTP/JSON dialect can serve. */
export type WorkersUnaryMethod = {
  [K in keyof WorkersApi]: (typeof WorkersServiceDesc)["method"][K] extends DescMethodUnary
    ? K
    : never;
}[keyof WorkersApi];
