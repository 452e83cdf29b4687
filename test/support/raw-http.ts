import * as http from "node:http";
import * as http2 from "node:http2";

/** Raw requests for hostile-input tests: bodies and headers no well-behaved client would send. */

export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly trailers: Record<string, string | string[] | undefined>;
  readonly body: Buffer;
}

/** One request over HTTP/2 without TLS, on its own connection. */
export async function h2Request(
  baseUrl: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer = Buffer.alloc(0),
): Promise<RawResponse> {
  const session = http2.connect(baseUrl);
  try {
    return await h2Exchange(session, path, headers, body);
  } finally {
    session.close();
  }
}

/** One request on an existing HTTP/2 session. */
export function h2Exchange(
  session: http2.ClientHttp2Session,
  path: string,
  headers: Record<string, string>,
  body: Buffer = Buffer.alloc(0),
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    session.once("error", reject);
    const stream = session.request({ ":method": "POST", ":path": path, ...headers });
    let status = 0;
    let responseHeaders: RawResponse["headers"] = {};
    let trailers: RawResponse["trailers"] = {};
    const chunks: Buffer[] = [];
    stream.on("response", (h) => {
      status = Number(h[":status"]);
      responseHeaders = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    stream.on("data", (c: Buffer) => chunks.push(c));
    stream.on("end", () =>
      resolve({ status, headers: responseHeaders, trailers, body: Buffer.concat(chunks) }),
    );
    stream.on("error", reject);
    stream.end(body);
  });
}

/** One HTTP/1.1 request. */
export function h1Request(
  baseUrl: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<RawResponse> {
  const body = options.body ?? Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${baseUrl}${path}`,
      {
        method: options.method ?? "POST",
        headers: { "content-length": body.length, ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            trailers: res.trailers,
            body: Buffer.concat(chunks),
          }),
        );
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** A gRPC message frame: flag byte (1 when compressed), 4-byte length, the bytes. */
export function grpcFrame(bytes: Uint8Array, compressed = false): Buffer {
  const frame = Buffer.alloc(5 + bytes.length);
  frame[0] = compressed ? 1 : 0;
  frame.writeUInt32BE(bytes.length, 1);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).copy(frame, 5);
  return frame;
}
