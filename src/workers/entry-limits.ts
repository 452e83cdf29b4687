import { invalidArgument } from "../core/errors.js";
import type { Worker } from "../gen/muster/workers/v1/types_pb.js";

/**
 * What one registration may hold in tags, system tags and queues together. Each list has its own
 * cap in the proto, but three full lists make a ~770 KB entry, and a few hundred of those make
 * get_all's answer too large to encode for every client.
 */
export const MAX_ENTRY_ITEMS = 1000;
export const MAX_ENTRY_BYTES = 64 * 1024;

/** Throws a 400 naming the fields when the worker's lists are over the bound together. */
export function checkEntrySize(worker: Worker): void {
  checkEntryLists(
    worker.tags,
    worker.systemTags,
    worker.queues.map((q) => q.id),
  );
}

/** The same check on the lists alone, e.g. a request's before anything is stored. */
export function checkEntryLists(
  tags: readonly string[],
  systemTags: readonly string[],
  queues: readonly string[],
): void {
  const lists = { tags, system_tags: systemTags, queues };
  let items = 0;
  let bytes = 0;
  for (const list of Object.values(lists)) {
    items += list.length;
    for (const item of list) bytes += Buffer.byteLength(item, "utf8");
  }
  if (items <= MAX_ENTRY_ITEMS && bytes <= MAX_ENTRY_BYTES) return;
  const counts = Object.entries(lists)
    .map(([name, list]) => `${list.length} ${name}`)
    .join(", ");
  throw invalidArgument(
    `tags, system_tags, queues: one worker may hold at most ${MAX_ENTRY_ITEMS} of them and ${MAX_ENTRY_BYTES} bytes together, this one would hold ${items} (${counts}) of ${bytes} bytes`,
  );
}
