// The user and company entries of worker records, one object per name: every worker of a company
// carries the same two instead of two objects (and their property arrays) each, about 200 bytes
// a worker. Stored records and everything in them are never changed in place, so sharing is safe.
import { create } from "@bufbuild/protobuf";
import { type IdNameEntry, IdNameEntrySchema } from "../gen/muster/workers/v1/types_pb.js";

/** Names are not bounded (tokens signed with a shared secret may name any user): past this many
 * the cache starts over; records already made keep their entries. */
const LIMIT = 10_000;

export class SharedIdNames {
  private readonly entries = new Map<string, IdNameEntry>();

  /** `{ id: name, name }`, the same object for the same name. */
  entry(name: string): IdNameEntry {
    let entry = this.entries.get(name);
    if (entry === undefined) {
      if (this.entries.size >= LIMIT) this.entries.clear();
      entry = create(IdNameEntrySchema, { id: name, name });
      this.entries.set(name, entry);
    }
    return entry;
  }
}
