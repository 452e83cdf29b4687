export interface GroupCommitOptions {
  /** How long the first waiting entry waits for company before its batch is written, ms. */
  readonly windowMs: number;
  /** A batch is written at once when it reaches this many lines. */
  readonly maxLines: number;
  /** At most this many writes in flight; later entries wait and join the next batch. */
  readonly maxInFlight: number;
}

export const DEFAULT_GROUP_COMMIT: GroupCommitOptions = {
  windowMs: 5,
  maxLines: 5000,
  maxInFlight: 2,
};

interface Entry {
  readonly text: string;
  readonly lines: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Group commit: entries submitted close together are joined into one write (after `windowMs`, or
 * as soon as `maxLines` lines wait, whichever comes first), and each entry's promise settles with
 * the write that carried it: resolved once written, rejected with that write's error. Entries are
 * never split across writes, so an entry is either all written or reported as failed.
 */
export class GroupCommit {
  private pending: Entry[] = [];
  private pendingLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private closed = false;

  constructor(
    private readonly write: (body: string) => Promise<void>,
    private readonly options: GroupCommitOptions = DEFAULT_GROUP_COMMIT,
  ) {}

  /** Queues lines (newline-free, already formatted) for the next write. */
  submit(lines: readonly string[]): Promise<void> {
    if (this.closed) return Promise.reject(new Error("stats store is closed"));
    if (lines.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ text: lines.join("\n"), lines: lines.length, resolve, reject });
      this.pendingLines += lines.length;
      if (this.pendingLines >= this.options.maxLines) this.flush();
      else if (this.timer === undefined) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.flush();
        }, this.options.windowMs);
      }
    });
  }

  /** Writes everything waiting and resolves when every write has settled; refuses new entries. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    while (this.pending.length > 0 || this.inFlight.size > 0) {
      this.flush();
      if (this.inFlight.size === 0) break;
      await Promise.race(this.inFlight);
    }
  }

  private flush(): void {
    while (this.pending.length > 0 && this.inFlight.size < this.options.maxInFlight) {
      const batch = this.take();
      const body = batch.map((e) => e.text).join("\n");
      const done: Promise<void> = this.write(body).then(
        () => {
          for (const entry of batch) entry.resolve();
        },
        (error: unknown) => {
          for (const entry of batch) entry.reject(error);
        },
      );
      this.inFlight.add(done);
      void done.finally(() => {
        this.inFlight.delete(done);
        // Entries that queued while every slot was busy go now, unless their window still runs.
        if (this.pendingLines >= this.options.maxLines || this.timer === undefined) this.flush();
      });
    }
  }

  /** The oldest entries up to maxLines lines (at least one entry, however large). */
  private take(): Entry[] {
    let count = 0;
    let lines = 0;
    while (count < this.pending.length && (count === 0 || lines < this.options.maxLines)) {
      const entry = this.pending[count] as Entry;
      if (count > 0 && lines + entry.lines > this.options.maxLines) break;
      lines += entry.lines;
      count++;
    }
    const batch = this.pending.slice(0, count);
    this.pending = this.pending.slice(count);
    this.pendingLines -= lines;
    return batch;
  }
}
