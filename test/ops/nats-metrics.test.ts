/**
 * NATS presence metrics on real servers: two muster instances on one bucket reporting for the
 * same worker at once conflict on the entry's revision, and the retries are counted; each
 * instance times exactly the presence updates it made.
 */
import parsePrometheusTextFormat from "parse-prometheus-text-format";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/core/clock.js";
import { createMuster, type Muster } from "../../src/muster.js";
import { openNatsPresenceStore } from "../../src/presence/nats/nats-presence-store.js";
import { MemoryStatsStore } from "../../src/stats/memory/memory-stats-store.js";
import { type NatsServerHandle, startNatsServer } from "../harness/nats-server.js";

async function counter(url: string, name: string, labels: Record<string, string> = {}) {
  const text = await (await fetch(`${url}/metrics`)).text();
  // Histograms read as untyped keep each series' labels (see metrics.test.ts).
  const families = parsePrometheusTextFormat(
    text.replace(/^# TYPE (\S+) histogram$/gm, "# TYPE $1 untyped"),
  );
  const sample = families
    .filter((f) => f.name === name)
    .flatMap((f) => f.metrics)
    .find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  return Number(sample?.value ?? 0);
}

describe("NATS presence metrics", () => {
  let nats: NatsServerHandle;
  const musters: Muster[] = [];
  beforeAll(async () => {
    nats = await startNatsServer();
    for (let i = 0; i < 2; i++) {
      const presence = await openNatsPresenceStore({
        url: nats.url,
        bucket: "metrics",
        clock: systemClock,
      });
      musters.push(
        await createMuster({
          presence,
          stats: new MemoryStatsStore(systemClock),
          clock: systemClock,
          log: pino({ level: "silent" }),
        }),
      );
    }
  });
  afterAll(async () => {
    await Promise.all(musters.map((m) => m.close()));
    await nats?.close();
  });

  it("counts revision-conflict retries and times each instance's updates", async () => {
    const urls = musters.map((m) => m.server.url);
    const report = (url: string, i: number) =>
      fetch(`${url}/workers.status_report`, {
        method: "POST",
        body: JSON.stringify({ worker: "shared", timestamp: Date.now(), tags: [`t${i}`] }),
      }).then(async (response) => {
        await response.arrayBuffer();
        return response.status;
      });
    const perInstance = 30;
    const statuses = await Promise.all(
      Array.from({ length: perInstance * 2 }, (_, i) => report(urls[i % 2] ?? "", i)),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);

    let retries = 0;
    for (const url of urls) {
      const labels = { store: "presence", backend: "nats", operation: "update" };
      expect(await counter(url, "muster_store_operation_duration_seconds_count", labels)).toBe(
        perInstance,
      );
      expect(await counter(url, "muster_store_errors_total")).toBe(0);
      retries += await counter(url, "muster_nats_cas_retries_total");
    }
    expect(retries).toBeGreaterThan(0);
    expect(await counter(urls[0] ?? "", "muster_workers_registered")).toBe(1);
  });
});
