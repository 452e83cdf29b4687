/**
 * ClearML JSON of long answers, converted a slice at a time: get_all of 100,000 workers would
 * otherwise hold the event loop for seconds, and every other call with it.
 */
import type { DescMessage, JsonObject, JsonValue, Message } from "@bufbuild/protobuf";
import { messageToClearml } from "./json.js";

/** Elements converted or encoded between two turns of the event loop. */
export const SLICE = 1000;

export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

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
