import { timestampMs } from "@bufbuild/protobuf/wkt";
import type { Worker } from "../gen/muster/workers/v1/types_pb.js";
import { globMatcher } from "./glob.js";

/** The filters get_all and get_count share. */
export interface WorkerFilter {
  /** Seconds; 0 disables the filter. */
  readonly lastSeenSeconds: number;
  readonly tags: readonly string[];
  readonly systemTags: readonly string[];
  readonly workerPattern: string;
}

/** Compiles ClearML's tag filter: every listed tag is required; "-x" excludes workers tagged x. */
function tagMatcher(filter: readonly string[]): (tags: readonly string[]) => boolean {
  if (filter.length === 0) return () => true;
  const required = filter.filter((t) => !t.startsWith("-"));
  const excluded = filter.filter((t) => t.startsWith("-")).map((t) => t.slice(1));
  return (tags) => {
    const have = new Set(tags);
    return required.every((t) => have.has(t)) && !excluded.some((t) => have.has(t));
  };
}

export function workerMatcher(filter: WorkerFilter, nowMs: number): (worker: Worker) => boolean {
  const hasTags = tagMatcher(filter.tags);
  const hasSystemTags = tagMatcher(filter.systemTags);
  const pattern = filter.workerPattern === "" ? undefined : globMatcher(filter.workerPattern);
  const activeSinceMs = nowMs - filter.lastSeenSeconds * 1000;
  return (worker) => {
    if (filter.lastSeenSeconds > 0 && lastActivityMs(worker) < activeSinceMs) {
      return false;
    }
    if (pattern !== undefined && !pattern(worker.id)) return false;
    return hasTags(worker.tags) && hasSystemTags(worker.systemTags);
  };
}

function lastActivityMs(worker: Worker): number {
  return worker.lastActivityTime === undefined ? 0 : timestampMs(worker.lastActivityTime);
}
