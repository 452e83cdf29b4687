// get_all's answer for the binary protocols (gRPC, gRPC-Web, Connect with proto), built from each
// worker's encoding, made once per stored record and kept on its view entry: encoding 100,000
// workers afresh was most of a call's time, copying their bytes is a memcpy each.
//
// A worker running a task reports how long it has run, which changes every second; its cached
// bytes are followed by a second `task { running_time }` field. Protobuf parsers merge a repeated
// message field into the first and let the last scalar win, so every client reads the worker
// exactly as if it had been encoded whole.
import { create, toBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
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

/** Bytes of a varint holding a non-negative safe integer. */
function varintSize(value: number): number {
  let size = 1;
  for (let rest = value; rest > 0x7f; rest = Math.floor(rest / 128)) size++;
  return size;
}

/** Writes a non-negative safe integer as a varint at `at`; returns where it ends. */
function writeVarint(out: Uint8Array, at: number, value: number): number {
  let rest = value;
  while (rest > 0x7f) {
    out[at++] = (rest % 128) | 0x80;
    rest = Math.floor(rest / 128);
  }
  out[at++] = rest;
  return at;
}

const TASK_TAG = (TASK_FIELD << 3) | WireType.LengthDelimited;
const RUNNING_TIME_TAG = (RUNNING_TIME_FIELD << 3) | WireType.Varint;

/** The most a worker's field adds to its bytes: its tag, its length, a running time field. */
const MAX_FIELD_OVERHEAD = 1 + 5 + 13;

/**
 * Bytes of one chunk of the answer. A 100,000-worker answer in one buffer was a 13 MB allocation
 * per call; in chunks no call asks for more than this at once. (RSS after 30 such calls measured
 * the same either way, within noise: BENCHMARKS.md, fourth round.)
 */
export const CHUNK_BYTES = 64 * 1024;

/**
 * Every entry's worker as a GetAllResponse.workers field, back to back: the same bytes as encoding
 * the response's workers, in chunks of at most CHUNK_BYTES that each start at a field (a worker
 * larger than a chunk gets one of its own), ready to send as unknown fields (`$unknown`). A
 * running worker's `task { running_time }` is written in place: no allocation per worker.
 */
export function encodedWorkersFields(entries: readonly ViewEntry[], nowMs: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  let out: Buffer | undefined;
  let at = 0;
  for (const entry of entries) {
    const body = encodedWorker(entry);
    const seconds =
      entry.taskStartedMs === undefined
        ? undefined
        : Math.max(0, Math.floor((nowMs - entry.taskStartedMs) / 1000));
    // The running time field: its tag, its length (one byte: at most 11), the scalar's tag, value.
    const extra = seconds === undefined ? 0 : 3 + varintSize(seconds);
    const need = body.length + MAX_FIELD_OVERHEAD;
    if (out === undefined || at + need > out.length) {
      if (out !== undefined) chunks.push(out.subarray(0, at));
      out = Buffer.allocUnsafe(Math.max(CHUNK_BYTES, need));
      at = 0;
    }
    out[at++] = WORKERS_TAG;
    at = writeVarint(out, at, body.length + extra);
    out.set(body, at);
    at += body.length;
    if (seconds !== undefined) {
      out[at++] = TASK_TAG;
      out[at++] = extra - 2;
      out[at++] = RUNNING_TIME_TAG;
      at = writeVarint(out, at, seconds);
    }
  }
  if (out !== undefined) chunks.push(out.subarray(0, at));
  return chunks;
}

/**
 * A chunk of fields as one unknown-field entry of the response: an encoder writes its tag, then
 * its data, so the data is the chunk's fields back to back without the first one's tag.
 */
export function asUnknownWorkers(chunk: Uint8Array) {
  return { no: WORKERS_FIELD, wireType: WireType.LengthDelimited, data: chunk.subarray(1) };
}
