import type { Clock } from "../../src/core/clock.js";

/** A clock tests move by hand. It starts at the real time, so stores with real TTLs stay sane. */
export class ManualClock implements Clock {
  private ms: number;

  constructor(startMs: number = Date.now()) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  advance(ms: number): void {
    this.ms += ms;
  }

  set(ms: number): void {
    this.ms = ms;
  }
}
