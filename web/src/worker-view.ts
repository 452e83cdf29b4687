// One worker: its registration (live from the fleet store) and charts of its machine stats over
// the chosen range: the average as a line, min–max per bucket as a band, one line per GPU.
import type uPlot from "uplot";
import { Aggregation, type MetricStats } from "../../src/gen/muster/workers/v1/types_pb.js";
import { messageOf, withSignIn, workers } from "./api.js";
import { drawChart, fitWidth, forgetCharts, type Line, PALETTE } from "./charts.js";
import { h, setText } from "./dom.js";
import type { FleetStore } from "./fleet-store.js";
import type { View } from "./fleet-view.js";
import { ago, dateTime, duration, msOf } from "./format.js";
import { compareVariants, defaultSelection, infoOf } from "./metrics.js";
import { intervalFor, isLive, rangePicker, resolveRange } from "./range.js";

const REFRESH_MS = 15_000;
const AGGREGATIONS = [Aggregation.MIN, Aggregation.AVG, Aggregation.MAX] as const;

export function workerView(store: FleetStore, id: string): View {
  const status = h("span", { class: "pill", id: "worker-status" });
  const details = h("dl", { class: "details" });
  const chips = h("div", { class: "chips", id: "metric-chips" });
  const message = h("p", { class: "muted", id: "worker-message" });
  const charts = h("div", { class: "charts" });
  const intervalNote = h("span", { class: "muted small", id: "interval-note" });
  const element = h(
    "section",
    { class: "view worker" },
    h("nav", { class: "crumbs" }, h("a", { href: "#/" }, "Fleet"), " / ", h("span", {}, id)),
    h("div", { class: "worker-head" }, h("h1", {}, id), status),
    details,
    h(
      "div",
      { class: "toolbar" },
      rangePicker(() => void load()),
      intervalNote,
    ),
    chips,
    message,
    charts,
  );

  let available: string[] = [];
  let selected: string[] = [];
  const hosts = new Map<string, { host: HTMLElement; chart: uPlot | undefined }>();
  let generation = 0;
  let destroyed = false;

  const showDetails = () => {
    const row = store.get(id);
    const w = row?.worker;
    setText(
      status,
      row === undefined
        ? "not registered"
        : row.status === "running"
          ? "running a task"
          : row.status,
    );
    status.className = `pill ${row?.status ?? "gone"}`;
    const entries: [string, string][] = [
      ["Task", row?.taskLabel || "—"],
      ["Queues", row?.queueLabels.join(", ") || "—"],
      ["Tags", w?.tags.join(", ") || "—"],
      ["IP", w?.ip ?? "—"],
      ["Registered", dateTime(msOf(w?.registerTime))],
      ["Last report", row === undefined ? "—" : ago(row.lastSeenMs, Date.now())],
      ["Timeout", w === undefined ? "—" : duration(w.registerTimeout)],
    ];
    details.replaceChildren(
      ...entries.map(([k, v]) => h("div", {}, h("dt", {}, k), h("dd", {}, v))),
    );
  };
  const unsubscribe = store.subscribe(showDetails);
  const ticker = setInterval(showDetails, 1000);
  showDetails();

  const resize = new ResizeObserver(() => {
    for (const { host, chart } of hosts.values()) if (chart !== undefined) fitWidth(chart, host);
  });
  resize.observe(charts);
  const refresher = setInterval(() => {
    if (isLive() && selected.length > 0) void load();
  }, REFRESH_MS);

  void start();

  async function start(): Promise<void> {
    try {
      const answer = await withSignIn(() => workers.getMetricKeys({ workerIds: [id] }));
      available = answer.categories.flatMap((c) => c.metricKeys);
    } catch (error) {
      // No statistics yet is an answer too (InvalidArgument, subcode 1005): say so plainly.
      setText(message, `No machine statistics recorded for this worker yet. (${messageOf(error)})`);
      return;
    }
    selected = defaultSelection(available);
    renderChips();
    await load();
  }

  function renderChips(): void {
    chips.replaceChildren(
      ...available.map((key) => {
        const on = selected.includes(key);
        const chip = h(
          "button",
          {
            type: "button",
            class: `chip toggle${on ? " on" : ""}`,
            "data-metric": key,
            "aria-pressed": String(on),
          },
          infoOf(key).title,
        );
        chip.addEventListener("click", () => {
          selected = on
            ? selected.filter((k) => k !== key)
            : available.filter((k) => k === key || selected.includes(k));
          renderChips();
          void load();
        });
        return chip;
      }),
    );
  }

  async function load(): Promise<void> {
    const mine = ++generation;
    if (selected.length === 0) {
      forgetCharts([...hosts.keys()]);
      hosts.clear();
      charts.replaceChildren();
      return;
    }
    // Cards first: the bucket width follows the width the charts really get.
    for (const key of [...hosts.keys()]) {
      if (!selected.includes(key)) {
        forgetCharts([key]);
        hosts.get(key)?.host.parentElement?.remove();
        hosts.delete(key);
      }
    }
    for (const key of selected) {
      if (hosts.has(key)) continue;
      const info = infoOf(key);
      const host = h("div", { class: "chart-host" });
      charts.append(
        h(
          "article",
          { class: "card chart", "data-chart": key },
          h("header", {}, h("h3", {}, info.title), h("span", { class: "muted small" }, info.unit)),
          host,
        ),
      );
      hosts.set(key, { host, chart: undefined });
    }
    const width = hosts.values().next().value?.host.clientWidth ?? charts.clientWidth;
    const { from, to } = resolveRange();
    const interval = intervalFor(to - from, Math.max(300, width));
    setText(intervalNote, `one point per ${duration(interval)}`);
    let metrics: MetricStats[];
    try {
      const answer = await withSignIn(() =>
        workers.getStats({
          workerIds: [id],
          fromDate: from,
          toDate: to,
          interval,
          splitByVariant: true,
          items: selected.flatMap((key) =>
            AGGREGATIONS.map((aggregation) => ({ key, aggregation })),
          ),
        }),
      );
      metrics = answer.workers.find((w) => w.worker === id)?.metrics ?? [];
      setText(message, "");
    } catch (error) {
      if (mine === generation) setText(message, `Could not load statistics: ${messageOf(error)}`);
      return;
    }
    if (mine !== generation || destroyed) return;
    for (const [key, entry] of hosts) {
      entry.chart = drawMetric(
        entry.host,
        key,
        metrics.filter((m) => m.metric === key),
        from,
        to,
      );
    }
  }

  return {
    element,
    destroy() {
      destroyed = true;
      unsubscribe();
      clearInterval(ticker);
      clearInterval(refresher);
      resize.disconnect();
      forgetCharts([...hosts.keys()]);
    },
  };
}

/** One chart per metric: for each variant (GPU index, or "total"), avg line over a min–max band. */
function drawMetric(
  host: HTMLElement,
  key: string,
  stats: readonly MetricStats[],
  from: number,
  to: number,
): uPlot {
  const info = infoOf(key);
  const variants = [...stats].sort((a, b) => compareVariants(a.variant ?? "", b.variant ?? ""));
  const dates = new Set<number>();
  for (const m of variants) for (const d of m.dates) dates.add(Number(d) / 1000);
  const xs = [...dates].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const lines: Line[] = [];
  const several = variants.length > 1;
  variants.forEach((m, i) => {
    const color = PALETTE[i % PALETTE.length] ?? "#5aa9ff";
    const name = several ? variantName(key, m.variant) : info.title;
    const column = (aggregation: Aggregation): (number | null)[] => {
      const values = m.stats.find((s) => s.aggregation === aggregation)?.values ?? [];
      const out: (number | null)[] = xs.map(() => null);
      m.dates.forEach((d, j) => {
        const at = index.get(Number(d) / 1000);
        if (at !== undefined) out[at] = values[j] ?? null;
      });
      return out;
    };
    lines.push({ label: `${name}`, values: column(Aggregation.AVG), color });
    lines.push({ label: `${name} min`, values: column(Aggregation.MIN), color, role: "band-low" });
    lines.push({ label: `${name} max`, values: column(Aggregation.MAX), color, role: "band-high" });
  });
  // An empty range still gets axes spanning it, so "no data" reads as a flat, empty chart.
  const chart = drawChart(host, {
    name: key,
    xs: xs.length > 0 ? xs : [from, to],
    lines: xs.length > 0 ? lines : [],
    unit: info.unit,
    ...(info.percent ? { yMin: 0, yMax: 100 } : {}),
  });
  chart.setScale("x", { min: from, max: to });
  return chart;
}

function variantName(key: string, variant: string | undefined): string {
  if (variant === undefined || variant === "total") return "total";
  return key.startsWith("gpu_") ? `GPU ${variant}` : `#${variant}`;
}
