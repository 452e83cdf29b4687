import { unavailable } from "../../core/errors.js";
import type { Params } from "./influxql.js";

/** One series of a /query answer: a tag set and its rows, `values[i][j]` under `columns[j]`. */
export interface InfluxSeries {
  readonly name?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values: readonly (readonly unknown[])[];
}

/** The answer to one statement of a /query request. */
export interface StatementResult {
  readonly series?: readonly InfluxSeries[];
  readonly error?: string;
  readonly partial?: boolean;
}

/**
 * InfluxQL through the v1 /query endpoint, which InfluxDB 1.x serves and 2.x keeps for
 * compatibility (a database name there is mapped to a bucket), over Node's fetch with
 * the token (v1Authorization). Network failures,
 * timeouts and 5xx answers become UNAVAILABLE naming the stats store (clients retry those);
 * anything else InfluxDB refuses is a plain Error, an internal failure.
 */
export class InfluxHttp {
  private readonly base: string;

  constructor(
    readonly url: string,
    private readonly token: string,
    readonly database: string,
    private readonly timeoutMs: number = 10_000,
  ) {
    this.base = url.endsWith("/") ? url : `${url}/`;
  }

  /**
   * Runs InfluxQL (several statements may be separated by `;`) with bound parameters, times
   * answered as epoch milliseconds. A statement's error, or an answer cut short by the server's
   * max-row-limit, is an Error: half an answer must not pass for a whole one.
   */
  async query(text: string, params?: Params): Promise<StatementResult[]> {
    const form = new URLSearchParams({ db: this.database, q: text, epoch: "ms" });
    if (params !== undefined) form.set("params", JSON.stringify(params));
    const response = await this.send("query", "query", { method: "POST", body: form });
    if (response.status !== 200) throw await this.refused("query", response);
    let answer: { results?: StatementResult[]; error?: string };
    try {
      answer = (await response.json()) as typeof answer;
    } catch (error) {
      // The answer's body is read under the same deadline as the request.
      throw unavailable(
        `stats store unavailable: InfluxDB query at ${this.base} failed: ${describe(error, this.timeoutMs)}`,
      );
    }
    if (answer.error !== undefined) throw new Error(`stats store query failed: ${answer.error}`);
    const results = answer.results ?? [];
    for (const result of results) {
      if (result.error !== undefined) throw new Error(`stats store query failed: ${result.error}`);
      if (result.partial === true) {
        throw new Error("stats store answer was truncated (InfluxDB [http] max-row-limit)");
      }
    }
    return results;
  }

  /**
   * One request. A connection that fails before any answer is tried once more: after InfluxDB
   * restarts, a pooled keep-alive socket can be dead, and every request here is idempotent
   * (a rewritten point replaces itself).
   */
  private async send(what: string, path: string, init: RequestInit): Promise<Response> {
    const url = new URL(path, this.base);
    const headers = new Headers(init.headers);
    if (this.token !== "") headers.set("authorization", v1Authorization(this.token));
    let lastError: unknown;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        return await fetch(url, { ...init, headers, signal: AbortSignal.timeout(this.timeoutMs) });
      } catch (error) {
        lastError = error;
        if (error instanceof Error && error.name === "TimeoutError") break;
      }
    }
    throw unavailable(
      `stats store unreachable: InfluxDB ${what} at ${this.base} failed: ${describe(lastError, this.timeoutMs)}`,
    );
  }

  private async refused(what: string, response: Response): Promise<Error> {
    const text = await response.text().catch(() => "");
    let message = text.trim();
    try {
      message = (JSON.parse(text) as { error?: string }).error ?? message;
    } catch {
      // Not JSON: keep the text.
    }
    const detail = `InfluxDB answered ${what} with ${response.status}${message === "" ? "" : `: ${message}`}`;
    return response.status >= 500
      ? unavailable(`stats store unavailable: ${detail}`)
      : new Error(`stats store refused the ${what}: ${detail}`);
  }
}

/** The useful part of a fetch failure: the socket error behind "fetch failed", or the timeout. */
function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error) {
    if (error.name === "TimeoutError") return `no answer within ${timeoutMs} ms`;
    const cause = (error as { cause?: unknown }).cause;
    if (cause instanceof Error) return cause.message;
    return error.message;
  }
  return String(error);
}

/**
 * The Authorization header for the v1 endpoints: `user:password` (1.x, or a 2.x v1 authorization)
 * as Basic, which every 1.x reads; an API token (2.x: base64, never a colon) with the Token scheme.
 */
export function v1Authorization(token: string): string {
  return token.includes(":")
    ? `Basic ${Buffer.from(token, "utf8").toString("base64")}`
    : `Token ${token}`;
}
