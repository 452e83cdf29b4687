/**
 * The workers service's type, derived from the generated descriptor (src/core/service-api.ts):
 * WorkersServiceImpl implements it and both edges, Connect and ClearML, bind to it.
 */
import type { DescMethodUnary } from "@bufbuild/protobuf";
import type { CallContext } from "../core/identity.js";
import type { ServiceApi } from "../core/service-api.js";
import type {
  GetAllRequest,
  GetAllResponse,
  WorkersService as WorkersServiceDesc,
} from "../gen/muster/workers/v1/workers_pb.js";

export type WorkersApi = ServiceApi<typeof WorkersServiceDesc>;

/** What the RPC edge calls: the service's methods, and get_all pre-encoded for binary callers. */
export interface WorkersRpcApi extends WorkersApi {
  /** getAll's answer with its workers carried as their cached encodings (get-all-wire.ts). */
  getAllEncoded(request: GetAllRequest, ctx: CallContext): Promise<GetAllResponse>;
}

/** The unary RPCs: the ones the ClearML HTTP/JSON dialect can serve. */
export type WorkersUnaryMethod = {
  [K in keyof WorkersApi]: (typeof WorkersServiceDesc)["method"][K] extends DescMethodUnary
    ? K
    : never;
}[keyof WorkersApi];
