import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { expect } from "vitest";
import { ApiError } from "../../src/core/errors.js";
import type { CallContext } from "../../src/core/identity.js";
import {
  GetActivityReportRequestSchema,
  GetAllRequestSchema,
  GetCountRequestSchema,
  GetMetricKeysRequestSchema,
  GetStatsRequestSchema,
  RegisterRequestSchema,
  StatusReportRequestSchema,
  UnregisterRequestSchema,
} from "../../src/gen/muster/workers/v1/workers_pb.js";
import type { WorkersServiceImpl } from "../../src/workers/service.js";

/** Calls the service with plain init objects, as a test reads best. */
export function client(service: WorkersServiceImpl, ctx: CallContext) {
  return {
    register: (init: MessageInitShape<typeof RegisterRequestSchema>) =>
      service.register(create(RegisterRequestSchema, init), ctx),
    unregister: (init: MessageInitShape<typeof UnregisterRequestSchema>) =>
      service.unregister(create(UnregisterRequestSchema, init), ctx),
    statusReport: (init: MessageInitShape<typeof StatusReportRequestSchema>) =>
      service.statusReport(create(StatusReportRequestSchema, init), ctx),
    getAll: (init: MessageInitShape<typeof GetAllRequestSchema> = {}) =>
      service.getAll(create(GetAllRequestSchema, init), ctx),
    getCount: (init: MessageInitShape<typeof GetCountRequestSchema> = {}) =>
      service.getCount(create(GetCountRequestSchema, init), ctx),
    getStats: (init: MessageInitShape<typeof GetStatsRequestSchema>) =>
      service.getStats(create(GetStatsRequestSchema, init), ctx),
    getActivityReport: (init: MessageInitShape<typeof GetActivityReportRequestSchema>) =>
      service.getActivityReport(create(GetActivityReportRequestSchema, init), ctx),
    getMetricKeys: (init: MessageInitShape<typeof GetMetricKeysRequestSchema> = {}) =>
      service.getMetricKeys(create(GetMetricKeysRequestSchema, init), ctx),
  };
}

/** Expects the call to fail with an ApiError of this code and subcode whose message names `field`. */
export async function expectApiError(
  call: Promise<unknown>,
  expected: { code?: Code; subcode: number; mentions: string },
): Promise<void> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, "the call should have failed").toBeInstanceOf(ApiError);
  const apiError = error as ApiError;
  expect(apiError.code).toBe(expected.code ?? Code.InvalidArgument);
  expect(apiError.subcode).toBe(expected.subcode);
  expect(apiError.message).toContain(expected.mentions);
}
