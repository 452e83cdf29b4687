/**
 * The queues a ClearML agent daemon resolves and polls. muster is a registry, not a scheduler: it
 * serves the queue names its configuration gives each company, with ids derived from company and
 * name (the same on every instance and after a restart), and never has a task to hand out.
 */
import { createHash } from "node:crypto";
import { create } from "@bufbuild/protobuf";
import { invalidArgument } from "../core/errors.js";
import type { CallContext } from "../core/identity.js";
import type { ServiceApi } from "../core/service-api.js";
import { validateMessage } from "../core/validate.js";
import {
  GetAllRequestSchema,
  GetAllResponseSchema,
  GetNextTaskRequestSchema,
  GetNextTaskResponseSchema,
  type Queue,
  QueueSchema,
  type QueuesService,
} from "../gen/muster/queues/v1/queues_pb.js";

export type QueuesApi = ServiceApi<typeof QueuesService>;

/** The queue names of a company, read on every call so a credentials reload applies at once. */
export type QueueNamesOf = (company: string) => readonly string[];

export class QueuesServiceImpl implements QueuesApi {
  constructor(private readonly namesOf: QueueNamesOf) {}

  async getAll(
    request: Parameters<QueuesApi["getAll"]>[0],
    ctx: CallContext,
  ): ReturnType<QueuesApi["getAll"]> {
    validateMessage(GetAllRequestSchema, request);
    const pattern = namePattern(request.name);
    const ids = new Set(request.id);
    const queues = this.queuesOf(ctx.identity.company).filter(
      (q) => (ids.size === 0 || ids.has(q.id)) && (pattern === undefined || pattern.test(q.name)),
    );
    return create(GetAllResponseSchema, { queues });
  }

  async getNextTask(
    request: Parameters<QueuesApi["getNextTask"]>[0],
  ): ReturnType<QueuesApi["getNextTask"]> {
    validateMessage(GetNextTaskRequestSchema, request);
    return create(GetNextTaskResponseSchema);
  }

  private queuesOf(company: string): Queue[] {
    return this.namesOf(company).map((name) =>
      create(QueueSchema, { id: queueId(company, name), name, tags: [] }),
    );
  }
}

/** 32 hex digits, like a ClearML id (the agent takes a 30+ hex argument for an id, not a name). */
export function queueId(company: string, name: string): string {
  return createHash("sha256").update(`${company}\0${name}`, "utf8").digest("hex").slice(0, 32);
}

/**
 * The `name` filter: a regular expression searched in the name, as the ClearML server applies it
 * (the agent sends Python's re.escape of the name, whose escapes JavaScript reads the same way).
 */
function namePattern(name: string): RegExp | undefined {
  if (name === "") return undefined;
  try {
    return new RegExp(name);
  } catch (error) {
    throw invalidArgument(`name: not a regular expression: ${(error as Error).message}`);
  }
}
