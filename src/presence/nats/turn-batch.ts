/**
 * Starts the calls queued during one event-loop turn together, in the check phase right after it.
 * The NATS client flushes what it has to send once per microtask checkpoint, so publishes started
 * from separate socket callbacks (one per HTTP request) each cost a socket write of their own: a
 * system call that was the largest single cost of a status report on NATS. Started together,
 * every publish of a turn goes out in one write. The price is the rest of the current turn.
 */
export class TurnBatch {
  private queued: Array<() => void> = [];

  /** Calls `start` at the end of this turn, with the others queued in it; settles as it does. */
  run<T>(start: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.queued.length === 0) setImmediate(this.drain);
      this.queued.push(() => {
        try {
          start().then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  private readonly drain = (): void => {
    const queued = this.queued;
    this.queued = [];
    for (const start of queued) start();
  };
}
