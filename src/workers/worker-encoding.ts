import { create, toBinary, type UnknownField } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { PresenceRecord } from "../gen/muster/presence/v1/record_pb.js";
import {
  CurrentTaskEntrySchema,
  type Worker,
  WorkerSchema,
} from "../gen/muster/workers/v1/types_pb.js";

/**
 * GetAll over a binary codec, without encoding every worker on every call. A stored worker changes
 * only when it is written, so its encoding (without the task, whose running_time moves with the
 * clock) is kept per stored object; the task field is encoded per call and appended, which
 * protobuf allows (fields may come in any order). At 100,000 workers this turns ~300 ms of
 * toBinary into copying bytes.
 */
const encodedWithoutTask = new WeakMap<Worker, Uint8Array>();

/** The wire form of one listed worker (a `Worker` message), as of `nowMs`. */
export function encodeListedWorker(record: PresenceRecord, nowMs: number): Uint8Array {
  const worker = record.worker ?? create(WorkerSchema);
  let base = encodedWithoutTask.get(worker);
  if (base === undefined) {
    const { task: _task, ...withoutTask } = worker;
    base = toBinary(WorkerSchema, create(WorkerSchema, withoutTask));
    encodedWithoutTask.set(worker, base);
  }
  if (worker.task === undefined) return base;
  const task = create(CurrentTaskEntrySchema, worker.task);
  if (record.taskStartedAt !== undefined) {
    task.runningTime = BigInt(runningSeconds(record.taskStartedAt, nowMs));
  }
  const taskField = new BinaryWriter()
    .tag(WorkerSchema.field.task.number, WireType.LengthDelimited)
    .bytes(toBinary(CurrentTaskEntrySchema, task))
    .finish();
  const whole = new Uint8Array(base.length + taskField.length);
  whole.set(base);
  whole.set(taskField, base.length);
  return whole;
}

/**
 * Pre-encoded elements of a repeated message field, as unknown fields of its parent: protobuf-es
 * writes them verbatim, so the parent's binary form is exactly that of the filled repeated field.
 * JSON codecs ignore unknown fields, so only binary responses may carry them.
 */
export function asRepeatedField(
  fieldNumber: number,
  elements: readonly Uint8Array[],
): UnknownField[] {
  return elements.map((element) => ({
    no: fieldNumber,
    wireType: WireType.LengthDelimited,
    data: new BinaryWriter().bytes(element).finish(),
  }));
}

export function runningSeconds(
  taskStartedAt: Parameters<typeof timestampMs>[0],
  nowMs: number,
): number {
  return Math.max(0, Math.floor((nowMs - timestampMs(taskStartedAt)) / 1000));
}
