/**
 * Query parameters as request fields, as the ClearML server reads them: the clients send
 * `auth.login?expiration_sec=N`. Only scalar fields are filled, and only where the body does not
 * set them; a value is turned into the JSON type its field takes, so the body's checks apply.
 */
import { type DescMessage, type JsonObject, type JsonValue, ScalarType } from "@bufbuild/protobuf";

/** The body with the query's scalar fields added; a body that is not an object is left alone. */
export function withQueryFields(schema: DescMessage, body: unknown, query: string): unknown {
  if (query === "" || typeof body !== "object" || body === null || Array.isArray(body)) {
    return body;
  }
  const params = new URLSearchParams(query);
  const out: JsonObject = { ...(body as JsonObject) };
  for (const field of schema.fields) {
    if (field.fieldKind !== "scalar") continue;
    if (out[field.name] !== undefined || out[field.jsonName] !== undefined) continue;
    const text = params.get(field.name) ?? params.get(field.jsonName);
    if (text === null) continue;
    out[field.name] = scalarOf(field.scalar, text);
  }
  return out;
}

/** A number for a numeric field when the text is one, a boolean for "true"/"false", else the text. */
function scalarOf(scalar: ScalarType, text: string): JsonValue {
  switch (scalar) {
    case ScalarType.STRING:
    case ScalarType.BYTES:
      return text;
    case ScalarType.BOOL:
      return text === "true" ? true : text === "false" ? false : text;
    default: {
      const n = Number(text);
      return text.trim() !== "" && Number.isFinite(n) ? n : text;
    }
  }
}
