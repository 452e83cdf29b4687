/**
 * The OpenAPI document of the HTTP/JSON paths, generated from the protos by `npm run generate`
 * (openapi/muster.openapi.json) and read once, on first request. src/ops and dist/ops are both
 * two levels below the repository root, where openapi/ lives.
 */
import { readFile } from "node:fs/promises";

export const OPENAPI_FILE = new URL("../../openapi/muster.openapi.json", import.meta.url);

let cached: Promise<string> | undefined;

export function openApiDocument(): Promise<string> {
  cached ??= readFile(OPENAPI_FILE, "utf8");
  return cached;
}
