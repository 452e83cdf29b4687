// Serves the dashboard's built files (dist-web/) on muster's one port, next to the RPC and ClearML
// paths: only "/", "/index.html" and "/assets/…" are ours, so no ClearML path is ever shadowed.
import { readFile, stat } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

/** The build output at the repository root, from both src/ui (tests) and dist/ui (built). */
export const DEFAULT_UI_ROOT = fileURLToPath(new URL("../../dist-web/", import.meta.url));

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".map": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".txt": "text/plain; charset=utf-8",
};

/** Vite names files under assets/ by their content hash, so they never change under one name. */
const ASSET_CACHE = "public, max-age=31536000, immutable";
/** index.html names the current assets: always revalidate it. */
const PAGE_CACHE = "no-cache";

const NOT_BUILT =
  "muster's dashboard is not built: run `npm run build:web`, then restart muster.\n";

interface StaticRequest {
  readonly url?: string | undefined;
  readonly method?: string | undefined;
}

interface StaticResponse {
  statusCode: number;
  setHeader(name: string, value: string | number): unknown;
  end(body?: Uint8Array | string): unknown;
}

/** Answers the request and resolves true when it is the dashboard's; resolves false otherwise. */
export type StaticHandler = (req: StaticRequest, res: StaticResponse) => Promise<boolean>;

export function staticFiles(root: string = DEFAULT_UI_ROOT): StaticHandler {
  const base = resolve(root);
  return async (req, res) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    const pathname = pathOf(req.url);
    if (pathname === undefined) return false;
    const isPage = pathname === "/" || pathname === "/index.html";
    if (!isPage && !pathname.startsWith("/assets/")) return false;

    const file = resolve(join(base, isPage ? "index.html" : pathname));
    // resolve() has collapsed any "..": a path that left the root is not ours to serve.
    if (!file.startsWith(base + sep)) return false;
    const found = await stat(file).catch(() => undefined);
    if (found === undefined || !found.isFile()) {
      if (!isPage) return false;
      send(res, req, 404, "text/plain; charset=utf-8", "no-cache", NOT_BUILT);
      return true;
    }
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
    send(res, req, 200, type, isPage ? PAGE_CACHE : ASSET_CACHE, await readFile(file));
    return true;
  };
}

function send(
  res: StaticResponse,
  req: StaticRequest,
  status: number,
  type: string,
  cache: string,
  body: Uint8Array | string,
): void {
  res.statusCode = status;
  res.setHeader("content-type", type);
  res.setHeader("cache-control", cache);
  res.setHeader("content-length", typeof body === "string" ? Buffer.byteLength(body) : body.length);
  res.setHeader("x-content-type-options", "nosniff");
  if (req.method === "HEAD") res.end();
  else res.end(body);
}

/** The decoded path of a request target, or undefined when it cannot be decoded or has a NUL. */
function pathOf(url: string | undefined): string | undefined {
  const raw = (url ?? "/").split("?", 1)[0] ?? "/";
  try {
    const decoded = decodeURIComponent(raw);
    return decoded.includes("\0") || decoded.includes("\\") ? undefined : decoded;
  } catch {
    return undefined;
  }
}
