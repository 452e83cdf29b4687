/**
 * The OpenAPI document muster serves at /openapi.json: a valid OpenAPI 3.1 document (checked by
 * @seriousme/openapi-schema-validator), describing what muster really answers: every ClearML and
 * Connect JSON answer below, success and failure, is checked against its response schema (Ajv,
 * JSON Schema 2020-12, which OpenAPI 3.1 schemas are).
 */
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { basic, KEYS } from "../support/auth.js";
import { startTestServer, type TestServer } from "../support/server.js";

const SERVICE = "muster.workers.v1.WorkersService";

/** A JSON pointer segment (RFC 6901). */
function pointer(segment: string): string {
  return segment.replaceAll("~", "~0").replaceAll("/", "~1");
}

describe("the OpenAPI document", () => {
  let muster: TestServer;
  let document: Record<string, unknown>;
  let ajv: Ajv2020;
  beforeAll(async () => {
    muster = await startTestServer();
    const response = await fetch(`${muster.url}/openapi.json`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/json");
    document = (await response.json()) as Record<string, unknown>;
    // strict: off because the document's schemas carry OpenAPI's annotations (title, examples
    // beside $ref); protobuf's number formats are descriptive only.
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats.default(ajv);
    for (const format of ["int32", "int64", "uint32", "uint64", "double", "float"]) {
      ajv.addFormat(format, true);
    }
    ajv.addSchema(document, "openapi");
  });
  afterAll(async () => {
    await muster.close();
  });

  /** Checks an answer against the schema for `status` (or "default") of the path's operation. */
  function expectConforms(path: string, method: string, status: number, body: unknown): void {
    const operation = `openapi#/paths/${pointer(path)}/${method}/responses`;
    const responses = (
      (document.paths as Record<string, Record<string, unknown>>)[path]?.[method] as
        | { responses: Record<string, unknown> }
        | undefined
    )?.responses;
    expect(responses, `${method} ${path} is documented`).toBeDefined();
    const key = String(status) in (responses ?? {}) ? String(status) : "default";
    const validate = ajv.getSchema(`${operation}/${key}/content/application~1json/schema`);
    expect(validate, `${method} ${path} ${key} has a schema`).toBeDefined();
    const ok = validate?.(body);
    expect(validate?.errors ?? [], `${method} ${path} ${status}: ${JSON.stringify(body)}`).toEqual(
      [],
    );
    expect(ok).toBe(true);
  }

  /** Sent by POST (fetch sends no body with GET); GET is documented with the same answers. */
  async function clearml(endpoint: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${muster.url}/${endpoint}`, {
      method: "POST",
      headers,
      body: JSON.stringify(body),
    });
    const json: unknown = await response.json();
    expectConforms(`/${endpoint}`, "post", response.status, json);
    expectConforms(`/${endpoint}`, "get", response.status, json);
    return { status: response.status, json };
  }

  async function connectJson(name: string, body: unknown) {
    const response = await fetch(`${muster.url}/${SERVICE}/${name}`, {
      method: "POST",
      headers: { "content-type": "application/json", "connect-protocol-version": "1" },
      body: JSON.stringify(body),
    });
    const json: unknown = await response.json();
    expectConforms(`/${SERVICE}/${name}`, "post", response.status, json);
    return { status: response.status, json };
  }

  it("is a valid OpenAPI 3.1 document for both JSON dialects", async () => {
    const validator = new Validator();
    const result = await validator.validate(document);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
    const paths = Object.keys(document.paths as object);
    expect(paths).toContain("/workers.status_report");
    expect(paths).toContain(`/${SERVICE}/StatusReport`);
  });

  it("describes every ClearML answer, with its envelope, success and failure", async () => {
    const now = Date.now();
    const from = Math.floor(now / 1000) - 600;
    const to = Math.floor(now / 1000) + 60;
    expect((await clearml("workers.register", { worker: "doc-1", tags: ["a"] })).status).toBe(200);
    const report = {
      worker: "doc-1",
      timestamp: now,
      task: "task-1",
      machine_stats: { cpu_usage: [12.5, 30], memory_used: 2048, gpu_usage: [50] },
    };
    expect((await clearml("workers.status_report", report)).status).toBe(200);
    const all = await clearml("workers.get_all", {});
    expect(JSON.stringify(all.json)).toContain("running_time");
    await clearml("workers.get_count", {});
    const stats = await clearml("workers.get_stats", {
      worker_ids: ["doc-1"],
      from_date: from,
      to_date: to,
      interval: 60,
      items: [
        { key: "cpu_usage", category: "avg" },
        { key: "gpu_usage", category: "max" },
      ],
      split_by_variant: true,
    });
    expect(JSON.stringify(stats.json)).toContain('"aggregation":"avg"');
    await clearml("workers.get_activity_report", { from_date: from, to_date: to, interval: 60 });
    await clearml("workers.get_metric_keys", { worker_ids: ["doc-1"] });
    await clearml("workers.unregister", { worker: "doc-1" });
    expect((await clearml("workers.register", { worker: "doc-2", timeout: -5 })).status).toBe(400);
    expect((await clearml("workers.get_all", { last_seen: "x" })).status).toBe(400);
    await clearml("queues.get_all", {});
    const login = await clearml("auth.login", {}, { authorization: basic(KEYS.acmeUser) });
    expect(login.status).toBe(200);
    // The check has teeth: the same answer without its envelope, or in protojson, does not pass.
    const validate = ajv.getSchema(
      "openapi#/paths/~1workers.get_all/post/responses/200/content/application~1json/schema",
    );
    const answer = all.json as { data: { workers: Record<string, unknown>[] } };
    expect(validate?.(answer.data)).toBe(false);
    const camel = {
      ...answer,
      data: { workers: [{ ...answer.data.workers[0], registerTime: 1 }] },
    };
    expect(validate?.(camel)).toBe(false);
  });

  it("describes every Connect JSON answer, success and failure", async () => {
    const now = Date.now();
    const from = Math.floor(now / 1000) - 600;
    const to = Math.floor(now / 1000) + 60;
    await connectJson("Register", { worker: "doc-3" });
    await connectJson("StatusReport", {
      worker: "doc-3",
      timestamp: String(now),
      task: "t",
      machineStats: { cpuUsage: [1, 2] },
    });
    const all = await connectJson("GetAll", {});
    expect(JSON.stringify(all.json)).toContain("registerTime");
    await connectJson("GetCount", {});
    await connectJson("GetStats", {
      workerIds: ["doc-3"],
      fromDate: from,
      toDate: to,
      interval: 60,
      items: [{ key: "cpu_usage", aggregation: "AGGREGATION_AVG" }],
    });
    await connectJson("GetActivityReport", { fromDate: from, toDate: to, interval: 60 });
    await connectJson("GetMetricKeys", {});
    await connectJson("Unregister", { worker: "doc-3" });
    const queues = await fetch(`${muster.url}/muster.queues.v1.QueuesService/GetAll`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expectConforms("/muster.queues.v1.QueuesService/GetAll", "post", 200, await queues.json());
    expect((await connectJson("Register", { worker: "" })).status).toBe(400);
  });
});
