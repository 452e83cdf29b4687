import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { Subcode } from "../core/errors.js";
import { type EnvelopeContext, envelope, type Result } from "./envelope.js";
import { SLICE, yieldToEventLoop } from "./json-slices.js";

/** An answer ready to write: its HTTP status and the envelope as JSON text. */
export interface EncodedAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * The envelope of `result` as JSON text, long lists encoded in slices. Never throws: if the answer
 * cannot be encoded (a string over V8's limit throws RangeError "Invalid string length"), the
 * client gets a 500 envelope saying so instead of a dropped connection.
 */
export async function encodeAnswer(
  ctx: EnvelopeContext,
  result: Result,
  onError: (error: unknown) => void,
): Promise<EncodedAnswer> {
  try {
    const head = JSON.stringify(envelope(ctx, { ...result, data: {} }));
    // The envelope's last member is "data": splice the sliced encoding in its place.
    const empty = '"data":{}}';
    if (!head.endsWith(empty)) throw new Error("the envelope must end with its data");
    const data = await encodeJson(result.data, 0);
    return { status: result.resultCode, text: `${head.slice(0, -empty.length)}"data":${data}}` };
  } catch (error) {
    onError(error);
    const failed: Result = {
      resultCode: 500,
      subcode: Subcode.internal,
      message:
        "the answer is too large to encode: narrow the request (filters, worker ids, a shorter range)",
      data: {},
    };
    return { status: failed.resultCode, text: JSON.stringify(envelope(ctx, failed)) };
  }
}

/** JSON text of `value`; lists longer than SLICE in its top levels are encoded slice by slice. */
async function encodeJson(value: JsonValue, depth: number): Promise<string> {
  if (Array.isArray(value) && value.length > SLICE) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i += SLICE) {
      if (i > 0) await yieldToEventLoop();
      parts.push(
        value
          .slice(i, i + SLICE)
          .map((item) => JSON.stringify(item))
          .join(","),
      );
    }
    return `[${parts.join(",")}]`;
  }
  if (depth < 2 && isObject(value)) {
    const members: string[] = [];
    for (const [key, member] of Object.entries(value)) {
      members.push(`${JSON.stringify(key)}:${await encodeJson(member, depth + 1)}`);
    }
    return `{${members.join(",")}}`;
  }
  return JSON.stringify(value);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
