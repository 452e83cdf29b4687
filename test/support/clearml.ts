import * as http from "node:http";

export interface ClearmlResponse {
  readonly status: number;
  readonly body: {
    meta: Record<string, unknown> & {
      result_code: number;
      result_subcode: number;
      result_msg: string;
      endpoint: { name: string; requested_version: string; actual_version: string };
    };
    data: Record<string, unknown>;
  };
  readonly raw: string;
}

/**
 * A request shaped like the ClearML SDK's and agent's: GET with a JSON body by default, the body
 * sent as given (a string is sent verbatim, anything else as JSON).
 */
export function clearml(
  baseUrl: string,
  path: string,
  body: unknown = {},
  options: { method?: string; headers?: Record<string, string> } = {},
): Promise<ClearmlResponse> {
  const payload = typeof body === "string" ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}${path}`,
      {
        method: options.method ?? "GET",
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
          ...options.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(raw), raw });
          } catch (error) {
            reject(new Error(`not JSON (${res.statusCode}): ${raw}`, { cause: error }));
          }
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}
