/**
 * Whether muster can serve: every configured store answers, and the server is not draining.
 * The gRPC health service, /readyz and the readiness gauge all ask here.
 */
import type { Readiness } from "../core/store-health.js";

/** A store as health checks see it. */
export interface Checked {
  readonly backend: string;
  ready(): Promise<Readiness>;
}

export interface HealthReport {
  readonly ready: boolean;
  readonly draining: boolean;
  /** Each store by role ("presence", "stats"), with why it is not ready when it is not. */
  readonly stores: Readonly<
    Record<string, { readonly backend: string; readonly ready: boolean; readonly reason?: string }>
  >;
}

/** How often watchers look again when nothing told them of a change. */
const POLL_MS = 1000;

export class Health {
  private draining = false;
  private readonly wakers = new Set<() => void>();
  /** Health Watch streams open now (close() gives them a moment to send NOT_SERVING). */
  watchers = 0;

  constructor(private readonly stores: Readonly<Record<string, Checked>>) {}

  async report(): Promise<HealthReport> {
    const entries = await Promise.all(
      Object.entries(this.stores).map(async ([role, store]) => {
        const readiness = await store
          .ready()
          .catch((error: unknown): Readiness => ({ ready: false, reason: String(error) }));
        const entry = readiness.ready
          ? { backend: store.backend, ready: true }
          : { backend: store.backend, ready: false, reason: readiness.reason };
        return [role, entry] as const;
      }),
    );
    const stores = Object.fromEntries(entries);
    const ready = !this.draining && entries.every(([, entry]) => entry.ready);
    return { ready, draining: this.draining, stores };
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** From now on nothing is ready; watchers hear it at once. */
  drain(): void {
    this.draining = true;
    for (const wake of this.wakers) wake();
  }

  /** Resolves after the next poll interval, on drain, or when `signal` aborts. */
  nextLook(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wakers.delete(done);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, POLL_MS);
      this.wakers.add(done);
      signal.addEventListener("abort", done, { once: true });
    });
  }
}
