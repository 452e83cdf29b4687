/**
 * A service's type, derived from its generated descriptor the way connect-es derives ServiceImpl:
 * one method per RPC with the request and response types the proto declares, but taking muster's
 * CallContext instead of a transport's. Each service class implements its own (an RPC it lacks is
 * a compile error) and the edges, Connect and ClearML, bind to it.
 */
import type {
  DescMethodServerStreaming,
  DescMethodUnary,
  DescService,
  MessageShape,
} from "@bufbuild/protobuf";
import type { CallContext } from "./identity.js";

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
