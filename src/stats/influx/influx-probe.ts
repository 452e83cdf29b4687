/**
 * Whether InfluxDB answers, for health checks: a /ping (served by 1.x, 2.x and 3.x) with a short
 * deadline, its answer kept for a second so probes from several clients cost one request.
 */
import { READY, type Readiness } from "../../core/store-health.js";

export class InfluxProbe {
  private last: { readonly at: number; readonly answer: Promise<Readiness> } | undefined;
  private readonly pingUrl: URL;

  constructor(
    url: string,
    private readonly timeoutMs = 1000,
    private readonly keepMs = 1000,
  ) {
    this.pingUrl = new URL("ping", url.endsWith("/") ? url : `${url}/`);
  }

  check(): Promise<Readiness> {
    const now = Date.now();
    if (this.last === undefined || now - this.last.at >= this.keepMs) {
      this.last = { at: now, answer: this.ping() };
    }
    return this.last.answer;
  }

  private async ping(): Promise<Readiness> {
    try {
      const response = await fetch(this.pingUrl, { signal: AbortSignal.timeout(this.timeoutMs) });
      await response.arrayBuffer();
      if (response.status === 204 || response.status === 200) return READY;
      return { ready: false, reason: `InfluxDB answered /ping with ${response.status}` };
    } catch (error) {
      const timedOut = error instanceof Error && error.name === "TimeoutError";
      return {
        ready: false,
        reason: timedOut
          ? `InfluxDB did not answer /ping within ${this.timeoutMs} ms`
          : `InfluxDB unreachable at ${this.pingUrl.origin}`,
      };
    }
  }
}
