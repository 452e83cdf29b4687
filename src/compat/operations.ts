/**
 * The unary RPCs as the ClearML layer calls them, bound to the typed services: a ClearML JSON body
 * in, the service's own method, ClearML JSON out. The workers table is typed by the descriptor, so
 * an RPC left out, or bound to the wrong service method, is a compile error.
 */
import type { DescMessage, DescMethodUnary, JsonObject, MessageShape } from "@bufbuild/protobuf";
import type { LoginService } from "../auth/login-service.js";
import type { CallContext } from "../core/identity.js";
import { AuthService } from "../gen/muster/auth/v1/auth_pb.js";
import { QueuesService } from "../gen/muster/queues/v1/queues_pb.js";
import { WorkersService as WorkersServiceDesc } from "../gen/muster/workers/v1/workers_pb.js";
import type { QueuesApi } from "../queues/service.js";
import type { WorkersApi, WorkersUnaryMethod } from "../workers/api.js";
import { messageFromClearml } from "./json.js";
import { messageToClearmlInSlices } from "./json-slices.js";

/** What an operation knows of its HTTP request besides the body. */
export interface OperationCall {
  /** Who is calling, authenticated and authorized for the operation's method. */
  readonly context: CallContext;
  /** The Authorization header as sent, for auth.login alone (it issues a token for it). */
  readonly authorization: string | undefined;
}

/** One unary RPC, as the ClearML layer calls it. */
export interface Operation {
  readonly method: DescMethodUnary;
  /** Parses the body (a 400 naming the field at fault), calls the service, writes the answer. */
  call(body: unknown, call: OperationCall): Promise<JsonObject>;
}

function bind<I extends DescMessage, O extends DescMessage>(
  method: DescMethodUnary<I, O>,
  invoke: (request: MessageShape<I>, call: OperationCall) => Promise<MessageShape<O>>,
): Operation {
  return {
    method,
    call: async (body, call) =>
      messageToClearmlInSlices(
        method.output,
        await invoke(messageFromClearml(method.input, body), call),
      ),
  };
}

/** The operation, with these fields of its answer left out of the ClearML JSON. */
function withoutFields(operation: Operation, names: readonly string[]): Operation {
  return {
    method: operation.method,
    call: async (body, call) => {
      const out = await operation.call(body, call);
      for (const name of names) delete out[name];
      return out;
    },
  };
}

export function workersOperations(service: WorkersApi): Record<WorkersUnaryMethod, Operation> {
  const rpc = WorkersServiceDesc.method;
  return {
    register: bind(rpc.register, (request, { context }) => service.register(request, context)),
    unregister: bind(rpc.unregister, (request, { context }) =>
      service.unregister(request, context),
    ),
    statusReport: bind(rpc.statusReport, (request, { context }) =>
      service.statusReport(request, context),
    ),
    // ClearML's get_all has no paging: every match, and no next_page_token in the answer.
    getAll: withoutFields(
      bind(rpc.getAll, (request, { context }) =>
        service.getAll({ ...request, pageSize: 0, pageToken: "" }, context),
      ),
      ["next_page_token"],
    ),
    getCount: bind(rpc.getCount, (request, { context }) => service.getCount(request, context)),
    getStats: bind(rpc.getStats, (request, { context }) => service.getStats(request, context)),
    getActivityReport: bind(rpc.getActivityReport, (request, { context }) =>
      service.getActivityReport(request, context),
    ),
    getMetricKeys: bind(rpc.getMetricKeys, (request, { context }) =>
      service.getMetricKeys(request, context),
    ),
  };
}

export function queuesOperations(service: QueuesApi): Operation[] {
  const rpc = QueuesService.method;
  return [
    bind(rpc.getAll, (request, { context }) => service.getAll(request, context)),
    bind(rpc.getNextTask, (request, { context }) => service.getNextTask(request, context)),
  ];
}

export function authOperations(login: LoginService): Operation[] {
  return [
    bind(AuthService.method.login, (request, { authorization }) =>
      login.login(request, authorization),
    ),
  ];
}

/** Every operation muster serves on the ClearML paths. */
export function allOperations(services: {
  readonly workers: WorkersApi;
  readonly queues: QueuesApi;
  readonly login: LoginService;
}): Operation[] {
  return [
    ...Object.values(workersOperations(services.workers)),
    ...queuesOperations(services.queues),
    ...authOperations(services.login),
  ];
}
