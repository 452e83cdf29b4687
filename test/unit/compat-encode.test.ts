import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { describe, expect, it } from "vitest";
import { encodeAnswer } from "../../src/compat/encode.js";

describe("encoding a ClearML answer", () => {
  const ctx = { endpoint: "workers.get_all", requestedVersion: "2.31", trx: undefined };

  it("answers a 500 envelope when the data cannot be encoded, instead of throwing", () => {
    // What JSON.stringify throws when the text would pass V8's string limit; the fleet shape that
    // caused it can no longer be registered, so it is simulated here.
    const data: JsonObject = {
      get workers(): JsonValue {
        throw new RangeError("Invalid string length");
      },
    };
    const errors: unknown[] = [];
    const answer = encodeAnswer(ctx, { resultCode: 200, subcode: 0, message: "OK", data }, (e) =>
      errors.push(e),
    );
    expect(answer.status).toBe(500);
    const body = JSON.parse(answer.text);
    expect(body.meta.result_code).toBe(500);
    expect(body.meta.result_subcode).toBe(100);
    expect(body.meta.result_msg).toContain("too large");
    expect(errors).toHaveLength(1);
  });
});
