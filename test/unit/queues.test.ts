// The queues service: the configured names per company, stable ids, the ClearML filters.
import { create } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ApiError } from "../../src/core/errors.js";
import {
  GetAllRequestSchema,
  GetNextTaskRequestSchema,
} from "../../src/gen/muster/queues/v1/queues_pb.js";
import { QueuesServiceImpl, queueId } from "../../src/queues/service.js";

const service = new QueuesServiceImpl((company) =>
  company === "acme" ? ["default", "gpu-a100", "gpu"] : ["default"],
);
const as = (company: string) => ({ identity: { company, user: "u" } });
const names = async (company: string, request: { name?: string; id?: string[] }) =>
  (await service.getAll(create(GetAllRequestSchema, request), as(company))).queues.map(
    (q) => q.name,
  );

describe("queues", () => {
  it("derives ids from company and name: stable, 32 hex digits, distinct per company", () => {
    expect(queueId("acme", "default")).toMatch(/^[0-9a-f]{32}$/);
    expect(queueId("acme", "default")).toBe(queueId("acme", "default"));
    expect(queueId("acme", "default")).not.toBe(queueId("globex", "default"));
  });

  it("filters by name as a regular expression (the agent sends re.escape) and by id", async () => {
    expect(await names("acme", {})).toEqual(["default", "gpu-a100", "gpu"]);
    expect(await names("acme", { name: "^gpu\\-a100$" })).toEqual(["gpu-a100"]);
    expect(await names("acme", { name: "gpu" })).toEqual(["gpu-a100", "gpu"]);
    expect(await names("acme", { id: [queueId("acme", "gpu")] })).toEqual(["gpu"]);
    expect(await names("globex", { id: [queueId("acme", "gpu")] })).toEqual([]);
  });

  it("answers every queue with tags [] and never a task", async () => {
    const { queues } = await service.getAll(create(GetAllRequestSchema), as("globex"));
    expect(queues.map((q) => ({ id: q.id, name: q.name, tags: q.tags }))).toEqual([
      { id: queueId("globex", "default"), name: "default", tags: [] },
    ]);
    const next = await service.getNextTask(
      create(GetNextTaskRequestSchema, { queue: queueId("globex", "default") }),
    );
    expect(Object.keys(next).filter((k) => !k.startsWith("$"))).toEqual([]);
  });

  it("refuses a name that is not a regular expression, naming the field", async () => {
    const error = await service
      .getAll(create(GetAllRequestSchema, { name: "(" }), as("acme"))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: Code.InvalidArgument, subcode: 12 });
    expect((error as ApiError).message).toMatch(/^name: not a regular expression/);
  });
});
