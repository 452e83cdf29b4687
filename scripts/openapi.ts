/**
 * Joins the two parts protoc-gen-connect-openapi writes (buf.gen.openapi.yaml) into
 * openapi/muster.openapi.json: the Connect JSON paths as generated, and the ClearML paths in the
 * shape the ClearML layer really answers (src/compat/json.ts): the {meta, data} envelope, proto
 * field names, integers as JSON numbers, enum values as short lower-case names ("avg"), served by
 * GET (with a body, as the ClearML SDK sends it) and POST. The generator cannot express those, so
 * they are applied here, from the generated schemas, never written by hand per message.
 * Run by `npm run generate`; CI checks that the committed file matches a fresh run.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

const PARTS = ".openapi-parts";
const OUT = "openapi/muster.openapi.json";
/** Our messages are muster.<package>.v1.X; their ClearML forms become clearml.<package>.v1.X. */
const API = "muster.";
const CLEARML = "clearml.";

function read(path: string): JsonObject {
  return JSON.parse(readFileSync(path, "utf8")) as JsonObject;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function objectAt(parent: JsonObject, key: string): JsonObject {
  const value = parent[key];
  if (!isObject(value)) throw new Error(`generated document: ${key} is not an object`);
  return value;
}

/** Applies `visit` to every object in the tree, children first. */
function walk(value: Json, visit: (node: JsonObject) => void): void {
  if (Array.isArray(value)) for (const item of value) walk(item, visit);
  else if (isObject(value)) {
    for (const child of Object.values(value)) walk(child, visit);
    visit(value);
  }
}

/** AGGREGATION → AGGREGATION_ (protobuf-es strips this prefix; ClearML lower-cases the rest). */
function enumPrefix(schemaName: string): string {
  const local = schemaName.slice(schemaName.lastIndexOf(".") + 1);
  return `${local.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}_`;
}

/** The ClearML part: schemas renamed clearml.*, in ClearML's JSON, unreferenced ones dropped. */
function clearmlPart(doc: JsonObject): { paths: JsonObject; schemas: JsonObject } {
  const schemas = objectAt(objectAt(doc, "components"), "schemas");
  for (const [name, schema] of Object.entries(schemas)) {
    if (!isObject(schema) || !Array.isArray(schema.enum)) continue;
    const prefix = enumPrefix(name);
    schema.enum = schema.enum
      .filter((v) => v !== `${prefix}UNSPECIFIED`)
      .map((v) => (typeof v === "string" ? v.replace(prefix, "").toLowerCase() : v));
  }
  walk(doc, (node) => {
    // int64 is a string in protojson; ClearML writes and reads JSON numbers.
    if (Array.isArray(node.type) && node.type.includes("integer")) {
      const types = node.type.filter((t) => t !== "string");
      node.type = types.length === 1 ? (types[0] ?? "integer") : types;
    }
    if (typeof node.$ref === "string")
      node.$ref = node.$ref.replace(`schemas/${API}`, `schemas/${CLEARML}`);
  });
  const renamed: JsonObject = {};
  for (const [name, schema] of Object.entries(schemas)) {
    renamed[name.startsWith(API) ? CLEARML + name.slice(API.length) : name] = schema;
  }

  const paths: JsonObject = {};
  for (const [path, item] of Object.entries(objectAt(doc, "paths"))) {
    // The annotation names GET or POST; ClearML serves every endpoint by both.
    const generated = isObject(item) ? (item.post ?? item.get) : undefined;
    if (!isObject(generated)) continue;
    const endpoint = path.slice(1);
    const ok = objectAt(
      objectAt(objectAt(objectAt(generated, "responses"), "200"), "content"),
      "application/json",
    );
    const operation = (method: string): JsonObject => ({
      ...generated,
      tags: ["clearml"],
      operationId: `clearml.${endpoint}.${method}`,
      responses: {
        "200": {
          description: "Success: meta.result_code 200, the answer in data",
          content: { "application/json": { schema: envelopeOf(ok.schema ?? {}) } },
        },
        default: {
          description:
            "Failure: HTTP status = meta.result_code, meta.result_subcode and result_msg say why, data is {}",
          content: { "application/json": { schema: envelopeOf({ type: "object" }) } },
        },
      },
    });
    paths[path] = { get: operation("get"), post: operation("post") };
  }
  return { paths, schemas: referenced(paths, renamed) };
}

function envelopeOf(data: Json): JsonObject {
  return {
    type: "object",
    required: ["meta", "data"],
    properties: { meta: { $ref: "#/components/schemas/clearml.Meta" }, data },
  };
}

/** ClearML's meta block (src/compat/envelope.ts). */
const META: JsonObject = {
  type: "object",
  title: "Meta",
  description: "ClearML's response envelope header; the HTTP status equals result_code.",
  required: ["id", "trx", "endpoint", "result_code", "result_subcode", "result_msg"],
  properties: {
    id: { type: "string", description: "This answer's id" },
    trx: { type: "string", description: "The X-ClearML-Trx header echoed, else the id" },
    endpoint: {
      type: "object",
      required: ["name", "requested_version", "actual_version"],
      properties: {
        name: { type: "string" },
        requested_version: { type: "string" },
        actual_version: { type: "string" },
      },
    },
    result_code: { type: "integer" },
    result_subcode: { type: "integer" },
    result_msg: { type: "string" },
    error_stack: { type: "string" },
    error_data: { type: "object" },
  },
};

/** The schemas reachable from `root`, so the ClearML part keeps no streaming-only types. */
function referenced(root: Json, schemas: JsonObject): JsonObject {
  const kept: JsonObject = {};
  const visit = (value: Json) =>
    walk(value, (node) => {
      const ref = node.$ref;
      if (typeof ref !== "string" || !ref.startsWith("#/components/schemas/")) return;
      const name = ref.slice("#/components/schemas/".length);
      const schema = schemas[name];
      if (name in kept || schema === undefined) return;
      kept[name] = schema;
      visit(schema);
    });
  visit(root);
  return kept;
}

const connect = read(`${PARTS}/connect/connect.json`);
const clearml = clearmlPart(read(`${PARTS}/clearml/clearml.json`));
const version = (read("package.json").version as string | undefined) ?? "0.0.0";
const connectSchemas = objectAt(objectAt(connect, "components"), "schemas");

const document: JsonObject = {
  openapi: connect.openapi ?? "3.1.0",
  info: {
    title: "muster",
    version,
    description:
      "Worker registry and fleet monitor. Two HTTP/JSON dialects of one API, generated from the protos " +
      "(proto/muster/{workers,queues,auth}/v1): the ClearML endpoints (tag clearml; each also served " +
      "under a /v2.N/ prefix; every answer in ClearML's {meta, data} envelope; proto field names) and " +
      "the Connect protocol's JSON (a tag per service; protojson). gRPC and gRPC-Web serve the same " +
      "methods; see the README.",
  },
  tags: [
    {
      name: "clearml",
      description: "ClearML-compatible endpoints (GET with a JSON body, or POST)",
    },
    ...(Array.isArray(connect.tags) ? connect.tags : []),
  ],
  paths: { ...clearml.paths, ...objectAt(connect, "paths") },
  components: {
    ...objectAt(connect, "components"),
    schemas: { ...connectSchemas, ...clearml.schemas, "clearml.Meta": META },
  },
};

mkdirSync("openapi", { recursive: true });
writeFileSync(OUT, `${JSON.stringify(document, null, 2)}\n`);
rmSync(PARTS, { recursive: true, force: true });
