// get_all's answer for the binary protocols (gRPC, gRPC-Web, Connect with proto), built from each
// worker's encoding, made once per stored record and kept on its view entry: encoding 100,000
// workers afresh was most of a call's time, copying their bytes is a memcpy each.
//
// A worker running a task reports how long it has run, which changes every second; its cached
// bytes are followed by a second `task { running_time }` field. Protobuf parsers merge a repeated
// message field into the first and let the last scalar win, so every client reads the worker
// exactly as if it had been encoded whole.
import { create, toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { WorkerSchema } from "../gen/muster/workers/v1/types_pb.js";
import type { ViewEntry } from "./sorted-records.js";

/** GetAllResponse.workers. */
const WORKERS_FIELD = 1;
/** Worker.task and CurrentTaskEntry.running_time. */
const TASK_FIELD = 9;
const RUNNING_TIME_FIELD = 3;
const WORKERS_TAG = (WORKERS_FIELD << 3) | WireType.LengthDelimited;

/** The entry's worker as encoded when it was stored. */
function encodedWorker(entry: ViewEntry): Uint8Array {
  entry.wire ??= toBinary(WorkerSchema, entry.record.worker ?? create(WorkerSchema));
  return entry.wire;
}

/** The `task { running_time }` field that follows a running worker's bytes; undefined if idle. */
function runningTimeField(entry: ViewEntry, nowMs: number): Uint8Array | undefined {
  if (entry.taskStartedMs === undefined) return undefined;
  const seconds = Math.max(0, Math.floor((nowMs - entry.taskStartedMs) / 1000));
  return new BinaryWriter()
    .tag(TASK_FIELD, WireType.LengthDelimited)
    .fork()
    .tag(RUNNING_TIME_FIELD, WireType.Varint)
    .int64(seconds)
    .join()
    .finish();
}

/** The most a worker's field adds to its bytes: its tag, its length, a running time field. */
const MAX_FIELD_OVERHEAD = 1 + 5 + 13;

/**
 * Every entry's worker as a GetAllResponse.workers field, back to back, in one buffer: the same
 * bytes as encoding the response's workers, ready to send as its unknown fields (`$unknown`).
 */
export function encodedWorkersFields(entries: readonly ViewEntry[], nowMs: number): Uint8Array {
  let bound = 0;
  for (const entry of entries) bound += encodedWorker(entry).length + MAX_FIELD_OVERHEAD;
  // One pass writes into room for the largest overhead; the unused tail is cut off.
  const out = Buffer.allocUnsafe(bound);
  let at = 0;
  for (const entry of entries) {
    const body = encodedWorker(entry);
    const extra = runningTimeField(entry, nowMs);
    let length = body.length + (extra?.length ?? 0);
    out[at++] = WORKERS_TAG;
    while (length > 0x7f) {
      out[at++] = (length & 0x7f) | 0x80;
      length >>>= 7;
    }
    out[at++] = length;
    out.set(body, at);
    at += body.length;
    if (extra !== undefined) {
      out.set(extra, at);
      at += extra.length;
    }
  }
  return out.subarray(0, at);
}

/**
 * The fields as one unknown-field entry of the response: an encoder writes its tag, then its
 * data, so the data is every field back to back without the first one's tag.
 */
export function asUnknownWorkers(fields: Uint8Array) {
  return { no: WORKERS_FIELD, wireType: WireType.LengthDelimited, data: fields.subarray(1) };
}
