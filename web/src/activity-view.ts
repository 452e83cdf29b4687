// Fleet activity over the chosen range: workers that reported, and those running a task, per
// bucket (GetActivityReport), next to the live counts from the fleet store.
import { messageOf, withSignIn, workers } from "./api.js";
import { drawChart, fitWidth, forgetCharts } from "./charts.js";
import { h, setText } from "./dom.js";
import type { FleetStore } from "./fleet-store.js";
import type { View } from "./fleet-view.js";
import { duration } from "./format.js";
import { intervalFor, isLive, rangePicker, resolveRange } from "./range.js";

const CHART = "activity";
const REFRESH_MS = 30_000;
const MIN_BUCKET_S = 60;

export function activityView(store: FleetStore): View {
  const registered = h("span", { class: "stat-value" }, "0");
  const running = h("span", { class: "stat-value" }, "0");
  const peak = h("span", { class: "stat-value", id: "activity-peak" }, "—");
  const host = h("div", { class: "chart-host" });
  const message = h("p", { class: "muted" });
  const intervalNote = h("span", { class: "muted small", id: "interval-note" });
  const element = h(
    "section",
    { class: "view activity" },
    h("h1", {}, "Fleet activity"),
    h(
      "div",
      { class: "stats" },
      h("div", { class: "stat" }, registered, h("span", { class: "stat-label" }, "registered now")),
      h(
        "div",
        { class: "stat" },
        running,
        h("span", { class: "stat-label" }, "running a task now"),
      ),
      h(
        "div",
        { class: "stat" },
        peak,
        h("span", { class: "stat-label" }, "most reporting in range"),
      ),
    ),
    h(
      "div",
      { class: "toolbar" },
      rangePicker(() => void load()),
      intervalNote,
    ),
    h(
      "article",
      { class: "card chart", "data-chart": CHART },
      h(
        "header",
        {},
        h("h3", {}, "Workers reporting and running a task"),
        h("span", { class: "muted small" }, "per bucket"),
      ),
      host,
    ),
    message,
  );

  const showCounts = () => {
    const counts = store.counts();
    setText(registered, String(counts.registered));
    setText(running, String(counts.running));
  };
  const unsubscribe = store.subscribe(showCounts);
  showCounts();
  let chart: ReturnType<typeof drawChart> | undefined;
  const resize = new ResizeObserver(() => chart !== undefined && fitWidth(chart, host));
  resize.observe(host);
  const refresher = setInterval(() => isLive() && void load(), REFRESH_MS);
  let generation = 0;
  queueMicrotask(() => void load());

  async function load(): Promise<void> {
    const mine = ++generation;
    const { from, to } = resolveRange();
    // Agents report every ~30 s: narrower buckets would count a steady fleet as flickering.
    const interval = intervalFor(to - from, Math.max(300, host.clientWidth), MIN_BUCKET_S);
    setText(intervalNote, `one point per ${duration(interval)}`);
    try {
      const answer = await withSignIn(() =>
        workers.getActivityReport({ fromDate: from, toDate: to, interval }),
      );
      if (mine !== generation) return;
      const xs = (answer.total?.dates ?? []).map((d) => Number(d) / 1000);
      const total = answer.total?.counts ?? [];
      const active = answer.active?.counts ?? [];
      setText(peak, total.length === 0 ? "—" : String(Math.max(...total)));
      setText(message, "");
      chart = drawChart(host, {
        name: CHART,
        xs,
        unit: "",
        height: 260,
        stepped: true,
        lines: [
          { label: "reporting", values: total, color: "#5aa9ff", fill: true },
          { label: "running a task", values: active, color: "#4fd1a5", fill: true },
        ],
      });
    } catch (error) {
      if (mine === generation) setText(message, `Could not load activity: ${messageOf(error)}`);
    }
  }

  return {
    element,
    destroy() {
      generation++;
      unsubscribe();
      clearInterval(refresher);
      resize.disconnect();
      forgetCharts([CHART]);
    },
  };
}
