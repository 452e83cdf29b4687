// The time range of the worker and activity views (1 h … 7 d, or custom), remembered across views,
// and the bucket width that gives a chart of a given width a few pixels per bucket.
import { h } from "./dom.js";

export type RangeChoice =
  | { readonly kind: "last"; readonly seconds: number; readonly label: string }
  | { readonly kind: "custom"; readonly from: number; readonly to: number };

export const PRESETS = [
  { kind: "last", seconds: 3600, label: "1 h" },
  { kind: "last", seconds: 6 * 3600, label: "6 h" },
  { kind: "last", seconds: 24 * 3600, label: "24 h" },
  { kind: "last", seconds: 7 * 86_400, label: "7 d" },
] as const satisfies readonly RangeChoice[];

let chosen: RangeChoice = PRESETS[0];

/** The range in epoch seconds, "now" being the time of the call for relative ranges. */
export function resolveRange(choice: RangeChoice = chosen): { from: number; to: number } {
  if (choice.kind === "custom") return { from: choice.from, to: choice.to };
  const to = Math.floor(Date.now() / 1000);
  return { from: to - choice.seconds, to };
}

export function isLive(choice: RangeChoice = chosen): boolean {
  return choice.kind === "last";
}

const NICE_SECONDS = [
  10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10_800, 21_600, 43_200, 86_400,
];
const PX_PER_BUCKET = 5;

/** A round bucket width giving about one bucket per 5 px of chart, and at least `minSeconds`. */
export function intervalFor(rangeSeconds: number, widthPx: number, minSeconds = 10): number {
  const buckets = Math.max(10, Math.floor(widthPx / PX_PER_BUCKET));
  const raw = Math.max(minSeconds, rangeSeconds / buckets);
  return NICE_SECONDS.find((s) => s >= raw) ?? Math.ceil(raw / 86_400) * 86_400;
}

/** Buttons for the presets and a custom from/to; calls `changed` with each new choice. */
export function rangePicker(changed: (choice: RangeChoice) => void): HTMLElement {
  const buttons = PRESETS.map((preset) =>
    h("button", { type: "button", class: "seg", "data-range": preset.label }, preset.label),
  );
  const customButton = h(
    "button",
    { type: "button", class: "seg", "data-range": "custom" },
    "Custom",
  );
  const from = h("input", { type: "datetime-local", "aria-label": "From", step: 60 });
  const to = h("input", { type: "datetime-local", "aria-label": "To", step: 60 });
  const apply = h("button", { type: "button", class: "primary small" }, "Apply");
  const error = h("span", { class: "form-error" });
  const custom = h("span", { class: "custom-range", hidden: true }, from, "–", to, apply, error);

  const mark = () => {
    for (const b of [...buttons, customButton]) {
      const active =
        chosen.kind === "custom" ? b === customButton : b.dataset.range === chosen.label;
      b.classList.toggle("active", active);
      b.setAttribute("aria-pressed", String(active));
    }
    custom.hidden = chosen.kind !== "custom";
  };
  buttons.forEach((button, i) => {
    button.addEventListener("click", () => {
      chosen = PRESETS[i] ?? PRESETS[0];
      mark();
      changed(chosen);
    });
  });
  customButton.addEventListener("click", () => {
    const { from: f, to: t } = resolveRange();
    from.value = localInput(f);
    to.value = localInput(t);
    custom.hidden = false;
    for (const b of buttons) b.classList.remove("active");
    customButton.classList.add("active");
  });
  apply.addEventListener("click", () => {
    const f = Date.parse(from.value) / 1000;
    const t = Date.parse(to.value) / 1000;
    if (!Number.isFinite(f) || !Number.isFinite(t) || f >= t) {
      error.textContent = "From must be before To.";
      return;
    }
    error.textContent = "";
    chosen = { kind: "custom", from: f, to: t };
    mark();
    changed(chosen);
  });
  mark();
  return h(
    "div",
    { class: "range" },
    h("div", { class: "segmented" }, ...buttons, customButton),
    custom,
  );
}

/** The value a datetime-local input shows for an epoch second, in local time. */
function localInput(seconds: number): string {
  const d = new Date(seconds * 1000);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
