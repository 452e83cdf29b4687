/**
 * Turns each finished call into a CallRecord for metrics and the request log: RPCs through a
 * Connect interceptor (gRPC, gRPC-Web and Connect alike), ClearML calls from the result the
 * ClearML layer reports. Only names, codes and ids are read, never headers' values or bodies.
 */
import { Code, ConnectError, type Interceptor } from "@connectrpc/connect";
import type { ClearmlCall } from "../core/clearml-call.js";
import type { CallContext } from "../core/identity.js";
import { callContextKey, clientIpKey } from "../rpc/context.js";
import { SUBCODE_HEADER } from "../rpc/errors.js";
import type { CallRecord, MusterMetrics } from "./metrics.js";

export type CallSink = (record: CallRecord) => void;

/** gRPC's names for the codes: OK, INVALID_ARGUMENT, UNAVAILABLE, … */
function codeName(code: Code | undefined): string {
  if (code === undefined) return "OK";
  return (Code[code] ?? String(code)).replace(/([a-z])([A-Z])/g, "$1_$2").toUpperCase();
}

function protocolOf(contentType: string | null): string {
  const type = contentType ?? "";
  if (type.startsWith("application/grpc-web")) return "grpc-web";
  if (type.startsWith("application/grpc")) return "grpc";
  return "connect";
}

function workerOf(message: unknown): string | undefined {
  if (typeof message !== "object" || message === null || !("worker" in message)) return undefined;
  return typeof message.worker === "string" && message.worker !== "" ? message.worker : undefined;
}

export function rpcInterceptor(metrics: MusterMetrics, sink: CallSink): Interceptor {
  return (next) => async (req) => {
    const started = performance.now();
    const protocol = protocolOf(req.header.get("content-type"));
    const method = `${req.service.typeName}/${req.method.name}`;
    const worker = req.stream ? undefined : workerOf(req.message);
    const finish = (error: unknown) => {
      const failure = error === undefined ? undefined : ConnectError.from(error);
      // Set by the authentication interceptor, inside this one; unset when the call was refused.
      const ctx: CallContext | undefined = req.contextValues.get(callContextKey);
      sink({
        protocol,
        method,
        code: codeName(failure?.code),
        ok: failure === undefined,
        subcode: Number(failure?.metadata.get(SUBCODE_HEADER) ?? 0) || 0,
        durationMs: performance.now() - started,
        company: ctx?.identity.company,
        worker,
        clientIp: req.contextValues.get(clientIpKey),
        trx: undefined,
      });
    };
    let res: Awaited<ReturnType<typeof next>>;
    try {
      res = await next(req);
    } catch (error) {
      finish(error);
      throw error;
    }
    if (!res.stream) {
      finish(undefined);
      return res;
    }
    // A stream is one call from its start to its end.
    const messages = res.message;
    metrics.streamOpened(protocol, method);
    async function* observed() {
      let failure: unknown;
      try {
        yield* messages;
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        metrics.streamClosed(protocol, method);
        finish(failure);
      }
    }
    return { ...res, message: observed() };
  };
}

export function clearmlRecord(call: ClearmlCall, clientIp: string | undefined): CallRecord {
  return {
    protocol: "clearml",
    // Paths muster does not serve are many and made up by callers: one label for them all.
    method: call.endpoint ?? "unknown",
    code: String(call.resultCode),
    ok: call.resultCode < 400,
    subcode: call.subcode,
    durationMs: call.durationMs,
    company: call.context?.identity.company,
    worker: call.worker,
    clientIp,
    trx: call.trx,
  };
}
