import {
  type DescEnum,
  type DescField,
  type DescMessage,
  fromJson,
  type JsonObject,
  type JsonValue,
  type Message,
  ScalarType,
  toJson,
} from "@bufbuild/protobuf";
import { invalidArgument } from "../core/errors.js";
import { quoteForMessage } from "../core/truncate.js";

/**
 * ClearML's JSON next to the protos' JSON: field names are the proto (snake_case) names, integers
 * are numbers (never strings), enum values are short lower-case names ("avg" for AGGREGATION_AVG),
 * null means absent, unknown fields are ignored. Both directions are driven by the descriptors.
 */

/** Parses a ClearML request body into a message; throws a 400 naming the first field at fault. */
export function messageFromClearml<Desc extends DescMessage>(schema: Desc, body: unknown) {
  if (!isObject(body)) throw invalidArgument("request body must be a JSON object");
  return fromJson(schema, objectToProtoJson(schema, body, ""), { ignoreUnknownFields: true });
}

/** Writes a message as ClearML JSON: unset optional fields left out, empty lists as []. */
export function messageToClearml(schema: DescMessage, message: Message): JsonObject {
  const json = toJson(schema, message, { useProtoFieldName: true, alwaysEmitImplicit: true });
  return protoJsonToClearml(schema, json as JsonObject);
}

function objectToProtoJson(schema: DescMessage, body: JsonObject, path: string): JsonObject {
  const out: JsonObject = {};
  for (const field of schema.fields) {
    const value = body[field.name] ?? body[field.jsonName];
    if (value === undefined || value === null) continue;
    out[field.name] = fieldToProtoJson(field, value, `${path}${field.name}`);
  }
  return out;
}

function fieldToProtoJson(field: DescField, value: JsonValue, path: string): JsonValue {
  switch (field.fieldKind) {
    case "list": {
      if (!Array.isArray(value)) throw invalidArgument(`${path}: expected a list`);
      return value.map((item, i) => singleToProtoJson(field, item, `${path}[${i}]`));
    }
    case "map": {
      if (!isObject(value)) throw invalidArgument(`${path}: expected an object`);
      const out: JsonObject = {};
      for (const [key, item] of Object.entries(value)) {
        out[key] = singleToProtoJson(field, item, `${path}.${key}`);
      }
      return out;
    }
    default:
      return singleToProtoJson(field, value, path);
  }
}

/** One value of a field (a list or map element, or the field itself). */
function singleToProtoJson(field: DescField, value: JsonValue, path: string): JsonValue {
  if (value === null) throw invalidArgument(`${path}: must not be null`);
  const message = field.message;
  if (message !== undefined) {
    if (message.typeName === "google.protobuf.Timestamp") {
      if (typeof value !== "string") throw invalidArgument(`${path}: expected an ISO-8601 time`);
      return value;
    }
    if (!isObject(value)) throw invalidArgument(`${path}: expected an object`);
    return objectToProtoJson(message, value, `${path}.`);
  }
  const enumeration = field.enum;
  if (enumeration !== undefined) return enumToProtoJson(enumeration, value, path);
  const scalar = field.scalar ?? ScalarType.STRING;
  switch (scalar) {
    case ScalarType.STRING:
      if (typeof value !== "string") throw invalidArgument(`${path}: expected a string`);
      // A lone surrogate ("\ud800") parses as JSON but is no Unicode text: protobuf cannot encode it.
      if (LONE_SURROGATE.test(value)) {
        throw invalidArgument(`${path}: not valid Unicode text (it holds a lone surrogate)`);
      }
      return value;
    case ScalarType.BOOL:
      if (typeof value !== "boolean") throw invalidArgument(`${path}: expected true or false`);
      return value;
    case ScalarType.BYTES:
      if (typeof value !== "string") throw invalidArgument(`${path}: expected base64 text`);
      return value;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (typeof value !== "number") throw invalidArgument(`${path}: expected a number`);
      // JSON.parse turns 1e400 into Infinity.
      if (!Number.isFinite(value)) throw invalidArgument(`${path}: ${value} is out of range`);
      return value;
    default:
      return integerToProtoJson(scalar, value, path);
  }
}

/** In a /u pattern a surrogate pair is one code point, so this finds unpaired halves only. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

const INT32_TYPES = new Set([ScalarType.INT32, ScalarType.SINT32, ScalarType.SFIXED32]);
const UINT32_TYPES = new Set([ScalarType.UINT32, ScalarType.FIXED32]);
const UNSIGNED_64_TYPES = new Set([ScalarType.UINT64, ScalarType.FIXED64]);

function integerToProtoJson(scalar: ScalarType, value: JsonValue, path: string): JsonValue {
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw invalidArgument(`${path}: expected an integer`);
  }
  const [min, max] = INT32_TYPES.has(scalar)
    ? [-(2 ** 31), 2 ** 31 - 1]
    : UINT32_TYPES.has(scalar)
      ? [0, 2 ** 32 - 1]
      : UNSIGNED_64_TYPES.has(scalar)
        ? [0, Number.MAX_SAFE_INTEGER]
        : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
  if (value < min || value > max) throw invalidArgument(`${path}: ${value} is out of range`);
  return value;
}

function enumToProtoJson(enumeration: DescEnum, value: JsonValue, path: string): JsonValue {
  const names = enumeration.values.filter((v) => v.number !== 0).map((v) => clearmlEnumName(v));
  if (typeof value === "string") {
    const match = enumeration.values.find((v) => v.number !== 0 && clearmlEnumName(v) === value);
    if (match !== undefined) return match.name;
  }
  throw invalidArgument(
    `${path}: ${describeValue(value)} is not one of ${names.map((n) => `"${n}"`).join(", ")}`,
  );
}

/** AGGREGATION_AVG → "avg": the value's name without the enum's prefix, lower-cased. */
function clearmlEnumName(value: DescEnum["values"][number]): string {
  return value.localName.toLowerCase();
}

function protoJsonToClearml(schema: DescMessage, json: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const field of schema.fields) {
    const value = json[field.name];
    if (value === undefined) continue;
    out[field.name] =
      field.fieldKind === "list" && Array.isArray(value)
        ? value.map((item) => singleToClearml(field, item))
        : field.fieldKind === "map" && isObject(value)
          ? Object.fromEntries(
              Object.entries(value).map(([k, item]) => [k, singleToClearml(field, item)]),
            )
          : singleToClearml(field, value);
  }
  return out;
}

function singleToClearml(field: DescField, value: JsonValue): JsonValue {
  const message = field.message;
  if (
    message !== undefined &&
    message.typeName !== "google.protobuf.Timestamp" &&
    isObject(value)
  ) {
    return protoJsonToClearml(message, value);
  }
  const enumeration = field.enum;
  if (enumeration !== undefined) {
    const match = enumeration.values.find((v) => v.name === value);
    return match === undefined ? value : clearmlEnumName(match);
  }
  // Proto JSON writes 64-bit integers as strings; ClearML clients expect numbers.
  if (typeof value === "string" && field.scalar !== undefined && is64BitInteger(field.scalar)) {
    return Number(value);
  }
  return value;
}

function is64BitInteger(scalar: ScalarType): boolean {
  return (
    scalar === ScalarType.INT64 ||
    scalar === ScalarType.UINT64 ||
    scalar === ScalarType.SINT64 ||
    scalar === ScalarType.FIXED64 ||
    scalar === ScalarType.SFIXED64
  );
}

/**
 * A client value for an error message, cut short. Lists and objects are named, not printed: a
 * deeply nested one would overflow the stack of JSON.stringify.
 */
function describeValue(value: JsonValue): string {
  if (Array.isArray(value)) return "a list";
  if (isObject(value)) return "an object";
  return quoteForMessage(value);
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
