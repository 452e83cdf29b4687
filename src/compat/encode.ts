import type { JsonObject } from "@bufbuild/protobuf";
import { Subcode } from "../workers/errors.js";
import { type EnvelopeContext, envelope, type Result } from "./envelope.js";

/** An answer ready to write: its HTTP status and the envelope as JSON text. */
export interface EncodedAnswer {
  readonly status: number;
  readonly text: string;
}

/**
 * The envelope of `result` as JSON text. Never throws: if the answer cannot be encoded (a string
 * over V8's limit throws RangeError "Invalid string length"), the client gets a 500 envelope saying
 * so instead of a dropped connection.
 */
export function encodeAnswer(
  ctx: EnvelopeContext,
  result: Result,
  onError: (error: unknown) => void,
): EncodedAnswer {
  try {
    return { status: result.resultCode, text: JSON.stringify(envelope(ctx, result)) };
  } catch (error) {
    onError(error);
    const failed: Result = {
      resultCode: 500,
      subcode: Subcode.internal,
      message:
        "the answer is too large to encode: narrow the request (filters, worker ids, a shorter range)",
      data: {} satisfies JsonObject,
    };
    return { status: failed.resultCode, text: JSON.stringify(envelope(ctx, failed)) };
  }
}
