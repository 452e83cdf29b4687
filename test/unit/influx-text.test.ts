import { describe, expect, it } from "vitest";
import { v1Authorization } from "../../src/stats/influx/influx-http.js";
import {
  durationLiteral,
  equalsAny,
  Params,
  quoteIdent,
  v1NamesOf,
} from "../../src/stats/influx/influxql.js";
import {
  decodeTagValue,
  encodeTagValue,
  point,
  tagValue,
} from "../../src/stats/influx/line-protocol.js";

// What the InfluxDB store writes and asks, as text: line protocol and InfluxQL. No server needed.

const DAY = 86_400_000;

describe("line protocol", () => {
  it("encodes what a tag value cannot carry, reversibly", () => {
    for (const value of ["a\\", "x\ny", "%41", "%", "\r\t\u0000\u007f", "ünï 🚀", "plain-id.1"]) {
      expect(decodeTagValue(encodeTagValue(value))).toBe(value);
    }
    expect(encodeTagValue("plain-id.1:gpu/0")).toBe("plain-id.1:gpu/0");
    expect(encodeTagValue("a\\b%c\nd")).toBe("a%5Cb%25c%0Ad");
    expect(() => encodeTagValue("")).toThrow("empty");
  });

  it("escapes commas, spaces and equals signs in tag values", () => {
    expect(tagValue('a,b=c d"e')).toBe('a\\,b\\=c\\ d"e');
    expect(point("m", [["k", "v 1"]], [["value", "1.5"]], 1000)).toBe("m,k=v\\ 1 value=1.5 1000");
  });

  it("sends user:password to the v1 endpoints as Basic, an API token as Token", () => {
    expect(v1Authorization("muster:s3cret")).toBe(
      `Basic ${Buffer.from("muster:s3cret").toString("base64")}`,
    );
    expect(v1Authorization("abc123==")).toBe("Token abc123==");
  });

  it("names a bucket's v1 database and retention policy", () => {
    expect(v1NamesOf("muster")).toEqual({ database: "muster" });
    expect(v1NamesOf("telegraf/autogen")).toEqual({
      database: "telegraf",
      retentionPolicy: "autogen",
    });
  });
});

describe("InfluxQL building", () => {
  it("quotes identifiers and refuses what cannot be quoted", () => {
    expect(quoteIdent('we"ird\\name\nx')).toBe('"we\\"ird\\\\name\\nx"');
    expect(() => quoteIdent("a\rb")).toThrow();
  });

  it("binds values as parameters, never into the text", () => {
    const params = new Params();
    const text = equalsAny("worker", ["a' OR 'x'='x", "b"], params);
    expect(text).toBe('("worker" = $p0 OR "worker" = $p1)');
    expect(params.toJSON()).toEqual({ p0: "a' OR 'x'='x", p1: "b" });
  });

  it("writes durations in the largest exact unit", () => {
    expect(durationLiteral(30 * DAY)).toBe("30d");
    expect(durationLiteral(90 * 60_000)).toBe("90m");
    expect(durationLiteral(7000)).toBe("7s");
  });

  it("sends user:password to the v1 endpoints as Basic, an API token as Token", () => {
    expect(v1Authorization("muster:s3cret")).toBe(
      `Basic ${Buffer.from("muster:s3cret").toString("base64")}`,
    );
    expect(v1Authorization("abc123==")).toBe("Token abc123==");
  });

  it("names a bucket's v1 database and retention policy", () => {
    expect(v1NamesOf("muster")).toEqual({ database: "muster" });
    expect(v1NamesOf("telegraf/autogen")).toEqual({
      database: "telegraf",
      retentionPolicy: "autogen",
    });
  });
});
