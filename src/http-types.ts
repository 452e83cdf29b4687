import type { IncomingHttpHeaders } from "node:http";

/** What muster's handlers use of a request from either Node server (HTTP/1.1 or HTTP/2). */
export interface NodeRequest extends AsyncIterable<Buffer | string> {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly socket?: { readonly remoteAddress?: string | undefined } | null | undefined;
}

/** What muster's handlers use of a response of either Node server. */
export interface NodeResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(): unknown;
  end(body: string): unknown;
  destroy(): unknown;
}
