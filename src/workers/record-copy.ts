// Shallow copies of stored records, written out field by field. An object spread (`{ ...worker }`)
// gave every copy a hidden class of its own in V8: two per worker (record and worker), with their
// descriptor arrays, about 650 bytes of every stored worker (bench/fleet-heap.ts). An object
// literal with the same keys in the same order shares one hidden class across all copies, and
// keeps every field inside the object instead of in a separate property array.
import type { PresenceRecord } from "../gen/muster/presence/v1/record_pb.js";
import type { Worker } from "../gen/muster/workers/v1/types_pb.js";

/** A new Worker with the same field values (lists and messages shared, not copied). */
export function copyWorker(w: Worker): Worker {
  const copy: Worker = {
    $typeName: w.$typeName,
    id: w.id,
    user: w.user,
    company: w.company,
    ip: w.ip,
    registerTime: w.registerTime,
    lastActivityTime: w.lastActivityTime,
    lastReportTime: w.lastReportTime,
    registerTimeout: w.registerTimeout,
    task: w.task,
    project: w.project,
    queue: w.queue,
    queues: w.queues,
    tags: w.tags,
    systemTags: w.systemTags,
    key: w.key,
  };
  // Fields of a newer schema that this build does not know, kept as they came.
  if (w.$unknown !== undefined) copy.$unknown = w.$unknown;
  return copy;
}

/** A new PresenceRecord with the same field values and the given worker. */
export function copyRecord(r: PresenceRecord, worker: Worker): PresenceRecord {
  const copy: PresenceRecord = {
    $typeName: r.$typeName,
    worker,
    taskStartedAt: r.taskStartedAt,
  };
  if (r.$unknown !== undefined) copy.$unknown = r.$unknown;
  return copy;
}
