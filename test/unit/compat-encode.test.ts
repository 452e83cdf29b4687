import { create, type JsonObject, type JsonValue } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { encodeAnswer } from "../../src/compat/encode.js";
import { envelope } from "../../src/compat/envelope.js";
import { messageToClearml } from "../../src/compat/json.js";
import { messageToClearmlInSlices } from "../../src/compat/json-slices.js";
import { IdNameEntrySchema, WorkerSchema } from "../../src/gen/muster/workers/v1/types_pb.js";
import { GetAllResponseSchema } from "../../src/gen/muster/workers/v1/workers_pb.js";

const ctx = { endpoint: "workers.get_all", requestedVersion: "2.31", trx: "t" };

function fleet(size: number) {
  const now = timestampFromMs(Date.now());
  return create(GetAllResponseSchema, {
    workers: Array.from({ length: size }, (_, i) =>
      create(WorkerSchema, {
        id: `worker-${i}`,
        user: create(IdNameEntrySchema, { id: "u", name: "u" }),
        registerTime: now,
        lastActivityTime: now,
        registerTimeout: 600,
        tags: ["gpu", `rack-${i % 10}`],
      }),
    ),
  });
}

describe("encoding a ClearML answer", () => {
  it("answers a 500 envelope when the data cannot be encoded, instead of throwing", async () => {
    // What JSON.stringify throws when the text would pass V8's string limit; the fleet shape that
    // caused it can no longer be registered, so it is simulated here.
    const data: JsonObject = {
      get workers(): JsonValue {
        throw new RangeError("Invalid string length");
      },
    };
    const errors: unknown[] = [];
    const answer = await encodeAnswer(
      ctx,
      { resultCode: 200, subcode: 0, message: "OK", data },
      (e) => errors.push(e),
    );
    expect(answer.status).toBe(500);
    const body = JSON.parse(answer.text);
    expect(body.meta.result_code).toBe(500);
    expect(body.meta.result_subcode).toBe(100);
    expect(body.meta.result_msg).toContain("too large");
    expect(errors).toHaveLength(1);
  });

  it("converts and encodes a long list in slices to the same JSON", async () => {
    const response = fleet(2_500);
    const data = await messageToClearmlInSlices(GetAllResponseSchema, response);
    expect(data).toEqual(messageToClearml(GetAllResponseSchema, response));
    const result = { resultCode: 200, subcode: 0, message: "OK", data };
    const answer = await encodeAnswer(ctx, result, () => {});
    const whole = JSON.parse(JSON.stringify(envelope(ctx, result)));
    const sliced = JSON.parse(answer.text);
    expect(sliced.data).toEqual(whole.data);
    expect({ ...sliced.meta, id: "" }).toEqual({ ...whole.meta, id: "" });
  });

  it("lets other work run while a 50,000-worker answer is built", async () => {
    const response = fleet(50_000);
    let turns = 0;
    const ticker = setInterval(() => turns++, 0);
    try {
      const data = await messageToClearmlInSlices(GetAllResponseSchema, response);
      await encodeAnswer(ctx, { resultCode: 200, subcode: 0, message: "OK", data }, () => {});
    } finally {
      clearInterval(ticker);
    }
    // 50 slices to convert and 50 to encode: timers ran in between, not only at the end.
    expect(turns).toBeGreaterThan(10);
  }, 60_000);
});
