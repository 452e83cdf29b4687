// GetAll's binary answer from each worker's encoding, kept while the worker is unchanged: stored
// records are replaced, never changed in place, so a worker object's bytes stay valid for as long
// as the object lives (a WeakMap forgets them with it). Encoding 100,000 workers afresh per call
// was most of GetAll's time; copying cached bytes is a memcpy each.
import { toBinary } from "@bufbuild/protobuf";
import { BinaryWriter, WireType } from "@bufbuild/protobuf/wire";
import { type Worker, WorkerSchema } from "../gen/muster/workers/v1/types_pb.js";
import type { GetAllResponse } from "../gen/muster/workers/v1/workers_pb.js";

const encoded = new WeakMap<Worker, Uint8Array>();
/** GetAllResponse.workers' field number. */
const WORKERS_FIELD = 1;

/**
 * The same answer on the wire, with the workers carried as already-encoded field 1 entries (an
 * encoder writes unknown fields as they are). Binary codecs only: JSON ignores unknown fields.
 */
export function withEncodedWorkers(response: GetAllResponse): GetAllResponse {
  if (response.workers.length === 0) return response;
  const fields = response.workers.map((worker) => {
    let field = encoded.get(worker);
    if (field === undefined) {
      // The whole field: tag, length, the worker's bytes.
      field = new BinaryWriter()
        .tag(WORKERS_FIELD, WireType.LengthDelimited)
        .bytes(toBinary(WorkerSchema, worker))
        .finish();
      encoded.set(worker, field);
    }
    return field;
  });
  // One unknown entry holds them all: the encoder writes its tag, then the data, which is every
  // field back to back minus the first one's tag. One copy instead of 100,000 small writes.
  const data = Buffer.concat(fields).subarray(1);
  const all = { no: WORKERS_FIELD, wireType: WireType.LengthDelimited, data };
  return { ...response, workers: [], $unknown: [...(response.$unknown ?? []), all] };
}

/** Whether the call's messages are Protobuf binary (gRPC, gRPC-Web, Connect with proto). */
export function isBinaryCall(contentType: string | null): boolean {
  if (contentType === null) return false;
  return !contentType.includes("json");
}
