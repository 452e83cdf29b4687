// get_all's page tokens (AIP-158): opaque to clients, naming where the last page ended and which
// request it belonged to, so a token reused with other filters (or by another company) is refused
// instead of silently skipping workers.
import { invalidArgument } from "../core/errors.js";
import type { SortKey } from "./sorted-records.js";

/** The request fields a token is bound to; page_size may change between pages. */
export interface PagedQuery {
  readonly company: string;
  readonly lastSeen: number;
  readonly tags: readonly string[];
  readonly systemTags: readonly string[];
  readonly workerPattern: string;
}

export function encodePageToken(after: SortKey, query: PagedQuery): string {
  return Buffer.from(JSON.stringify([1, after.id, after.user, fingerprint(query)])).toString(
    "base64url",
  );
}

/** Where the page starts; undefined for the first page. Throws INVALID_ARGUMENT naming the field. */
export function decodePageToken(token: string, query: PagedQuery): SortKey | undefined {
  if (token === "") return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    parsed = undefined;
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== 4 ||
    parsed[0] !== 1 ||
    typeof parsed[1] !== "string" ||
    typeof parsed[2] !== "string" ||
    typeof parsed[3] !== "string"
  ) {
    throw invalidArgument("page_token: not a page token from get_all");
  }
  if (parsed[3] !== fingerprint(query)) {
    throw invalidArgument(
      "page_token: issued for a request with other filters (last_seen, tags, system_tags, worker_pattern must stay the same between pages)",
    );
  }
  return { id: parsed[1], user: parsed[2] };
}

/** FNV-1a of the query: a short tag, not a secret (tokens are only ever a position). */
function fingerprint(query: PagedQuery): string {
  const text = JSON.stringify([
    query.company,
    query.lastSeen,
    query.tags,
    query.systemTags,
    query.workerPattern,
  ]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}
