import type { DescMessage, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { Subcode } from "../workers/errors.js";
import { type EnvelopeContext, envelope, type Result } from "./envelope.js";
import { messageToClearml } from "./json.js";

/** An answer ready to write: its HTTP status and the envelope as JSON text. */
export interface EncodedAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * Elements converted or encoded between two turns of the event loop: get_all of 100,000 workers
 * would otherwise hold the loop for seconds, and every other call with it.
 */
const SLICE = 1000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

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

/**
 * messageToClearml, with long lists of messages (get_all's workers) converted slice by slice,
 * yielding to the event loop in between.
 */
export async function messageToClearmlInSlices(
  schema: DescMessage,
  message: Message,
): Promise<JsonObject> {
  const long = schema.fields.filter((field) => {
    const list: unknown = Reflect.get(message, field.localName);
    return field.fieldKind === "list" && field.message !== undefined && Array.isArray(list)
      ? list.length > SLICE
      : false;
  });
  if (long.length === 0) return messageToClearml(schema, message);
  const rest: Message = { ...message };
  for (const field of long) Reflect.set(rest, field.localName, []);
  const out = messageToClearml(schema, rest);
  for (const field of long) {
    const itemSchema = field.message as DescMessage;
    const list = Reflect.get(message, field.localName) as Message[];
    const converted: JsonValue[] = [];
    for (let i = 0; i < list.length; i += SLICE) {
      await yieldToEventLoop();
      for (const item of list.slice(i, i + SLICE)) {
        converted.push(messageToClearml(itemSchema, item));
      }
    }
    out[field.name] = converted;
  }
  return out;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
