import { readFileSync } from "node:fs";

/**
 * The process's soft limit on open file descriptors, from /proc/self/limits (Linux), or undefined
 * where it cannot be read. The connection cap must stay under it, or accept() fails for everyone.
 */
export function openFilesLimit(): number | undefined {
  try {
    const limits = readFileSync("/proc/self/limits", "utf8");
    const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(limits);
    if (match === null || match[1] === "unlimited") return undefined;
    return Number(match[1]);
  } catch {
    return undefined;
  }
}

/** Descriptors kept for everything but client connections: stores, logs, DNS, files. */
const RESERVED_DESCRIPTORS = 64;

/** The connection cap that fits the descriptor limit: `wanted`, or less when the limit is lower. */
export function connectionCap(wanted: number, fdLimit: number | undefined): number {
  if (fdLimit === undefined) return wanted;
  return Math.max(1, Math.min(wanted, fdLimit - RESERVED_DESCRIPTORS));
}
