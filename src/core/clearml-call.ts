/**
 * What the ClearML layer tells its observers (metrics, request log) of one answered call: shared
 * here because the edge that reports it and the ops code that records it may not import each other.
 */
import type { CallContext } from "./identity.js";

export interface ClearmlCall {
  /** The endpoint ("workers.get_all"), or undefined when the path names none muster serves. */
  readonly endpoint: string | undefined;
  readonly resultCode: number;
  readonly subcode: number;
  /** The X-ClearML-Trx (or X-Trains-Trx) header, echoed as meta.trx. */
  readonly trx: string | undefined;
  /** Who called, once authenticated. */
  readonly context: CallContext | undefined;
  readonly worker: string | undefined;
  readonly durationMs: number;
}
