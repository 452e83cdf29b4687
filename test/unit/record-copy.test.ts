// The field-by-field copies must carry every field the schema has: a field added to the proto and
// not to the copy would be dropped by every status report. The test reads the field list from
// the descriptors, so it fails on such a field, and checks that all copies share one layout.
import { create } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { PresenceRecordSchema } from "../../src/gen/muster/presence/v1/record_pb.js";
import { WorkerSchema } from "../../src/gen/muster/workers/v1/types_pb.js";
import { copyRecord, copyWorker } from "../../src/workers/record-copy.js";

function everyFieldSet() {
  return create(WorkerSchema, {
    id: "w",
    user: { id: "u", name: "U" },
    company: { id: "c", name: "C" },
    ip: "10.0.0.1",
    registerTime: timestampFromMs(1),
    lastActivityTime: timestampFromMs(2),
    lastReportTime: timestampFromMs(3),
    registerTimeout: 600,
    task: { id: "t", name: "T", runningTime: 5n },
    project: { id: "p", name: "P" },
    queue: { id: "q", name: "Q" },
    queues: [{ id: "q" }],
    tags: ["a"],
    systemTags: ["s"],
    key: "k",
  });
}

describe("copyWorker and copyRecord", () => {
  it("copy every field the descriptors list, with its value", () => {
    const worker = everyFieldSet();
    for (const field of WorkerSchema.fields) {
      expect(worker[field.localName as keyof typeof worker], field.name).not.toBeUndefined();
    }
    const copy = copyWorker(worker);
    expect(copy).not.toBe(worker);
    expect(copy).toStrictEqual(worker);
    const record = create(PresenceRecordSchema, { worker, taskStartedAt: timestampFromMs(9) });
    for (const field of PresenceRecordSchema.fields) {
      expect(record[field.localName as keyof typeof record], field.name).not.toBeUndefined();
    }
    expect(copyRecord(record, copy)).toStrictEqual(record);
  });

  it("keep fields of a newer schema (unknown fields) as they came", () => {
    const worker = everyFieldSet();
    worker.$unknown = [{ no: 99, wireType: 0, data: new Uint8Array([1]) }];
    expect(copyWorker(worker).$unknown).toBe(worker.$unknown);
  });

  it("read unset fields as unset", () => {
    const copy = copyWorker(create(WorkerSchema, { id: "w" }));
    expect([copy.ip, copy.task, copy.user, copy.tags]).toEqual([
      undefined,
      undefined,
      undefined,
      [],
    ]);
  });
});
