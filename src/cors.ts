import { cors as connectCors } from "@connectrpc/connect";
import type { NodeRequest, NodeResponse } from "./http-types.js";
import { SUBCODE_HEADER } from "./rpc/errors.js";

const ALLOWED_METHODS = [...new Set([...connectCors.allowedMethods, "GET", "POST"])].join(", ");
const ALLOWED_HEADERS = [
  ...connectCors.allowedHeaders,
  "Authorization",
  "X-ClearML-Worker",
  "X-ClearML-Agent",
  "X-ClearML-Client",
  "X-ClearML-Trx",
].join(", ");
const EXPOSED_HEADERS = [...connectCors.exposedHeaders, SUBCODE_HEADER].join(", ");

/**
 * CORS for browser clients (connect-web, a UI) served from other origins. `origins` lists the
 * allowed origins, or "*" for any; empty turns CORS off, so no web page can call muster by default.
 * Returns a function that adds the headers and answers preflights (true when it did).
 */
export function corsPolicy(origins: readonly string[]) {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  return (req: NodeRequest, res: NodeResponse): boolean => {
    const origin = req.headers.origin;
    if (origin === undefined || (!any && !allowed.has(origin))) return false;
    res.setHeader("Access-Control-Allow-Origin", any ? "*" : origin);
    if (!any) res.setHeader("Vary", "Origin");
    res.setHeader("Access-Control-Expose-Headers", EXPOSED_HEADERS);
    if (req.method !== "OPTIONS" || req.headers["access-control-request-method"] === undefined) {
      return false;
    }
    res.statusCode = 204;
    res.setHeader("Access-Control-Allow-Methods", ALLOWED_METHODS);
    res.setHeader("Access-Control-Allow-Headers", ALLOWED_HEADERS);
    res.setHeader("Access-Control-Max-Age", "7200");
    res.end();
    return true;
  };
}
