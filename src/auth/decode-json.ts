/**
 * Protobuf JSON decoding for files people write: protobuf-es says which message type failed but
 * not which entry, so on failure this walks down to the innermost entry that fails on its own and
 * names it (`companies[0].users[1]: ... key "rol" is unknown`).
 */
import {
  type DescMessage,
  fromJson,
  fromJsonString,
  type JsonValue,
  type MessageShape,
} from "@bufbuild/protobuf";

export class JsonDecodeError extends Error {
  override readonly name = "JsonDecodeError";
}

/** Decodes JSON text; unknown fields are errors. Throws JsonDecodeError naming the bad entry. */
export function decodeJson<Desc extends DescMessage>(
  schema: Desc,
  text: string,
): MessageShape<Desc> {
  try {
    return fromJsonString(schema, text);
  } catch (error) {
    let json: JsonValue;
    try {
      json = JSON.parse(text) as JsonValue;
    } catch {
      throw new JsonDecodeError(`not JSON: ${messageOf(error)}`);
    }
    throw new JsonDecodeError(locate(schema, json, "") ?? messageOf(error));
  }
}

/** The error of the innermost failing entry with its path, or undefined when `json` decodes. */
function locate(schema: DescMessage, json: JsonValue, path: string): string | undefined {
  try {
    fromJson(schema, json);
    return undefined;
  } catch (error) {
    if (typeof json === "object" && json !== null && !Array.isArray(json)) {
      for (const field of schema.fields) {
        if (field.message === undefined || field.fieldKind === "map") continue;
        const value = json[field.jsonName] ?? json[field.name];
        const fieldPath = path === "" ? field.name : `${path}.${field.name}`;
        const items = field.fieldKind === "list" && Array.isArray(value) ? value : [];
        const inner =
          field.fieldKind === "list"
            ? items
                .map((item, i) => locate(field.message, item, `${fieldPath}[${i}]`))
                .find(Boolean)
            : value === undefined
              ? undefined
              : locate(field.message, value, fieldPath);
        if (inner !== undefined) return inner;
      }
    }
    return path === "" ? messageOf(error) : `${path}: ${messageOf(error)}`;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
