// Time-series charts on uPlot (small, fast with thousands of points), themed for the dashboard.
// Every chart is registered in window.__musterCharts under its name, so tests can read its data.
import uPlot from "uplot";

declare global {
  interface Window {
    __musterCharts: Record<string, uPlot>;
  }
}
window.__musterCharts = {};

export const PALETTE = [
  "#5aa9ff",
  "#b48cff",
  "#4fd1a5",
  "#ffb454",
  "#ff7a90",
  "#7ee0ff",
  "#e6d36b",
  "#c0c7d1",
];

const AXIS = {
  stroke: "#8b95a5",
  grid: { stroke: "rgba(255,255,255,0.06)", width: 1 },
  ticks: { stroke: "rgba(255,255,255,0.08)", width: 1 },
  font: "11px system-ui, sans-serif",
};

export interface Line {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color: string;
  /** Drawn as the band around the previous line's values, hidden from the legend. */
  readonly role?: "line" | "band-low" | "band-high";
  readonly fill?: boolean;
}

export interface ChartSpec {
  readonly name: string;
  /** Bucket starts, epoch seconds. */
  readonly xs: readonly number[];
  readonly lines: readonly Line[];
  readonly unit: string;
  readonly height?: number;
  readonly yMin?: number;
  readonly yMax?: number;
  readonly stepped?: boolean;
}

/** Draws the chart into `host` (replacing one there), sized to its width. */
export function drawChart(host: HTMLElement, spec: ChartSpec): uPlot {
  // A bucket's count holds until the next bucket starts.
  const stepped = uPlot.paths.stepped?.({ align: 1 });
  window.__musterCharts[spec.name]?.destroy();
  host.replaceChildren();
  const hiddenFromLegend = new Set<number>();
  const bands: uPlot.Band[] = [];
  const series: uPlot.Series[] = [{}];
  spec.lines.forEach((line, i) => {
    const index = i + 1;
    const role = line.role ?? "line";
    if (role !== "line") hiddenFromLegend.add(index);
    if (role === "band-high") bands.push({ series: [index, index - 1], fill: `${line.color}26` });
    series.push({
      label: line.label,
      stroke: role === "line" ? line.color : "transparent",
      width: role === "line" ? 1.5 : 0,
      ...(line.fill === true ? { fill: `${line.color}1f` } : {}),
      ...(spec.stepped === true && stepped !== undefined ? { paths: stepped } : {}),
      points: role === "line" ? { size: 4 } : { show: false },
      value: (_u, v) => (v === null || v === undefined ? "—" : `${format(v)} ${spec.unit}`.trim()),
    });
  });
  const range: uPlot.Range.MinMax | uPlot.Range.Function = (_u, min, max) => [
    spec.yMin ?? Math.min(0, min),
    spec.yMax ?? (max > 0 ? max * 1.08 : 1),
  ];
  const options: uPlot.Options = {
    width: Math.max(200, host.clientWidth),
    height: spec.height ?? 200,
    series,
    bands,
    scales: { y: { range } },
    axes: [
      { ...AXIS },
      {
        ...AXIS,
        size: 60,
        values: (_u, splits) => splits.map((v) => `${format(v)}${spec.unit === "%" ? "%" : ""}`),
      },
    ],
    legend: { live: true },
    cursor: { points: { size: 6 } },
    hooks: {
      init: [
        (u) => {
          u.root.querySelectorAll<HTMLElement>(".u-legend .u-series").forEach((row, index) => {
            if (hiddenFromLegend.has(index)) row.style.display = "none";
          });
        },
      ],
    },
  };
  const data: uPlot.AlignedData = [spec.xs.slice(), ...spec.lines.map((l) => l.values.slice())];
  const chart = new uPlot(options, data, host);
  window.__musterCharts[spec.name] = chart;
  return chart;
}

export function forgetCharts(names: readonly string[]): void {
  for (const name of names) {
    window.__musterCharts[name]?.destroy();
    delete window.__musterCharts[name];
  }
}

/** Sizes each chart to its host's width when the layout changes. */
export function fitWidth(chart: uPlot, host: HTMLElement): void {
  const width = Math.max(200, host.clientWidth);
  if (width !== chart.width) chart.setSize({ width, height: chart.height });
}

function format(v: number): string {
  const abs = Math.abs(v);
  if (abs >= 10_000) return `${(v / 1000).toFixed(abs >= 100_000 ? 0 : 1)}k`;
  if (abs >= 100 || Number.isInteger(v)) return v.toFixed(0);
  return v.toFixed(abs >= 10 ? 1 : 2);
}
