/**
 * The standard grpc.health.v1.Health service (Check, List, Watch), so grpcurl, grpc_health_probe
 * and load balancers can probe muster: the overall status ("") and the workers service are
 * SERVING only while every store answers and the server is not draining.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter } from "@connectrpc/connect";
import {
  type HealthCheckResponse,
  HealthCheckResponseSchema,
  Health as HealthDesc,
  HealthCheckResponse_ServingStatus as Status,
} from "../gen/grpc/health/v1/health_pb.js";
import { WorkersService } from "../gen/muster/workers/v1/workers_pb.js";
import type { Health } from "./health.js";

export { HealthDesc };

export function registerHealth(router: ConnectRouter, health: Health): void {
  // The API needs the stores; the health service itself needs only not to be draining.
  const needStores = new Set(["", WorkersService.typeName]);
  const known = new Set([...needStores, HealthDesc.typeName]);

  const statusOf = async (service: string): Promise<Status> => {
    if (!known.has(service)) return Status.SERVICE_UNKNOWN;
    if (!needStores.has(service)) return health.isDraining ? Status.NOT_SERVING : Status.SERVING;
    return (await health.report()).ready ? Status.SERVING : Status.NOT_SERVING;
  };
  const answer = (status: Status): HealthCheckResponse =>
    create(HealthCheckResponseSchema, { status });

  router.service(HealthDesc, {
    async check({ service }) {
      if (!known.has(service)) {
        throw new ConnectError(`unknown service ${JSON.stringify(service)}`, Code.NotFound);
      }
      return answer(await statusOf(service));
    },
    async list() {
      const statuses: Record<string, HealthCheckResponse> = {};
      for (const service of known) statuses[service] = answer(await statusOf(service));
      return { statuses };
    },
    async *watch({ service }, ctx) {
      health.watchers++;
      try {
        let last: Status | undefined;
        while (!ctx.signal.aborted) {
          const status = await statusOf(service);
          if (status !== last) {
            last = status;
            yield answer(status);
          }
          await health.nextLook(ctx.signal);
        }
      } finally {
        health.watchers--;
      }
    },
  });
}
