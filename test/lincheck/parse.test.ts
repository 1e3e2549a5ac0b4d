// The history readers: the shapes of ../shared/linearizability/README ("Format 1", "Format 2",
// "Turning a file into operations"), our json format, format inference, and typed errors that
// carry the line of the problem.

import { describe, expect, it } from "vitest";
import {
  checkHistory,
  HistoryParseError,
  inferFormat,
  kvModel,
  parseEdnLines,
  parseHistory,
  parseJepsenLog,
  parseJsonHistory,
  registerModel,
  type HistoryParseErrorCode,
} from "../../runtime/testing/lincheck/index.js";
import { readEdn, EdnKeyword, EdnMap } from "../../runtime/testing/lincheck/edn.js";
import { readFileSync } from "node:fs";
import { readManifest, sharedPath } from "./shared-data.js";

const J = (lines: string[]) => lines.map((l) => `INFO  jepsen.util - ${l.replace(/ /g, "\t")}`).join("\n") + "\n";

function parseError(fn: () => unknown): HistoryParseError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HistoryParseError);
    return err as HistoryParseError;
  }
  throw new Error("expected a HistoryParseError");
}

function expectError(fn: () => unknown, code: HistoryParseErrorCode, line: number | undefined, text: RegExp): void {
  const err = parseError(fn);
  expect(err.code).toBe(code);
  expect(err.line).toBe(line);
  expect(err.message).toMatch(text);
}

describe("jepsen-log", () => {
  it("reads tab- and space-separated lines, pairs split over two tokens, nil and keywords", () => {
    const text =
      "INFO  jepsen.util - 2\t:invoke\t:cas\t[3 0]\n" +
      "INFO  jepsen.util - 0   :invoke   :read   nil\n" +
      "INFO  jepsen.util - 2\t:ok\t:cas\t[3 0]\n" +
      "INFO  jepsen.util - 0   :ok   :read   nil\n";
    expect(parseJepsenLog(text)).toEqual([
      { client: "2", call: 0, return: 2, op: "cas", input: [3, 0], outcome: "ok", output: [3, 0], line: 1, returnLine: 3 },
      { client: "0", call: 1, return: 3, op: "read", input: null, outcome: "ok", output: null, line: 2, returnLine: 4 },
    ]);
  });

  it("keeps an :info operation open forever and records the error keyword", () => {
    const ops = parseJepsenLog(J(["2 :invoke :write 3", "2 :info :write :timed-out", "7 :invoke :read nil", "7 :ok :read 3"]));
    expect(ops[0]).toMatchObject({ client: "2", call: 0, return: Infinity, outcome: "info", error: "timed-out" });
    expect(ops[0]).not.toHaveProperty("output");
    expect(ops[1]).toMatchObject({ client: "7", call: 2, return: 3, output: 3 });
  });

  it("closes nothing at end of file: a still-open operation is indeterminate", () => {
    expect(parseJepsenLog(J(["1 :invoke :write 4"]))[0]).toMatchObject({ return: Infinity, outcome: "info" });
  });

  it("lets a client id be reused after :info", () => {
    const ops = parseJepsenLog(J(["1 :invoke :write 4", "1 :info :write :timed-out", "1 :invoke :read nil", "1 :ok :read 4"]));
    expect(ops.map((o) => o.outcome)).toEqual(["info", "ok"]);
  });

  it("skips lines that are not client operations (nemesis, setup)", () => {
    const text = "setup line\nINFO  jepsen.util - :nemesis\t:info\t:start\tnil\n" + J(["1 :invoke :read nil", "1 :ok :read nil"]);
    expect(parseJepsenLog(text)).toHaveLength(1);
  });

  it("the register model drops failed reads and writes, keeps failed cas as an observation", () => {
    const records = parseJepsenLog(
      J([
        "1 :invoke :read nil",
        "1 :fail :read :timed-out",
        "1 :invoke :write 1",
        "1 :fail :write 1",
        "1 :invoke :cas [1 2]",
        "1 :fail :cas [1 2]",
      ]),
    );
    const ops = records.map((r) => registerModel.fromHistory!(r));
    expect(ops[0]).toBeUndefined();
    expect(ops[1]).toBeUndefined();
    expect(ops[2]).toMatchObject({ input: { op: "cas", from: 1, to: 2 }, output: false });
    const result = checkHistory(registerModel, records);
    expect(result.dropped).toBe(2);
    expect(result.verdict).toBe("linearizable");
  });

  it("reports problems with their line", () => {
    expectError(() => parseJepsenLog(J(["1 :invoke :read nil", "1 :done :read nil"])), "syntax", 2, /unknown event type ":done"/);
    expectError(() => parseJepsenLog(J(["1 :ok :read nil"])), "unmatched-completion", 1, /no open operation/);
    expectError(
      () => parseJepsenLog(J(["1 :invoke :read nil", "1 :invoke :write 2"])),
      "overlapping-invocation",
      2,
      /still open/,
    );
    expectError(
      () => parseJepsenLog(J(["1 :invoke :read nil", "1 :ok :write 2"])),
      "mismatched-completion",
      2,
      /completes a read \(line 1\)/,
    );
    expectError(() => parseJepsenLog(J(["1 :invoke :cas [1"])), "syntax", 1, /bad value "\[1": missing "\]"/);
    expectError(() => parseJepsenLog("INFO  jepsen.util - 1\t:invoke\t:read\n"), "syntax", 1, /got 3 tokens/);
    expectError(() => parseJepsenLog("hello\n"), "no-operations", undefined, /no Jepsen operation lines/);
    expect(parseError(() => parseJepsenLog(J(["1 :ok :read nil"]))).message).toMatch(/^line 1: /);
  });

  it("a completion with an error keyword instead of a value is an error for ok operations", () => {
    const records = parseJepsenLog(J(["1 :invoke :read nil", "1 :ok :read :timed-out"]));
    expectError(() => checkHistory(registerModel, records), "invalid-operation", 1, /carries the error value :timed-out/);
  });

  it("the register model rejects values it cannot compare, with the line", () => {
    const records = parseJepsenLog(J(["1 :invoke :write [1 2]", "1 :ok :write [1 2]"]));
    expectError(() => checkHistory(registerModel, records), "invalid-operation", 1, /a write needs a number or string/);
  });
});

describe("edn-lines", () => {
  it("reads porcupine's kv lines", () => {
    const text = [
      '{:process 6, :type :invoke, :f :append, :key "0", :value "x 6 0 y"}',
      '{:process 11, :type :invoke, :f :get, :key "0", :value nil}',
      '{:process 6, :type :ok, :f :append, :key "0", :value "x 6 0 y"}',
      '{:process 11, :type :ok, :f :get, :key "0", :value ""}',
    ].join("\n");
    expect(parseEdnLines(text)).toEqual([
      { client: "6", call: 0, return: 2, op: "append", key: "0", input: "x 6 0 y", outcome: "ok", output: "x 6 0 y", line: 1, returnLine: 3 },
      { client: "11", call: 1, return: 3, op: "get", key: "0", input: null, outcome: "ok", output: "", line: 2, returnLine: 4 },
    ]);
  });

  it("accepts EDN string escapes, blank and comment lines, and skips nemesis maps", () => {
    const text = [
      "; a comment",
      "",
      '{:process :nemesis, :type :info, :f :start, :value nil}',
      '{:process 1, :type :invoke, :f :put, :key "k", :value "a\\"b\\\\c\\n\\u00e9"}',
      '{:process 1, :type :ok, :f :put, :key "k", :value "a\\"b\\\\c\\n\\u00e9"}',
    ].join("\n");
    expect(parseEdnLines(text)[0]).toMatchObject({ input: 'a"b\\c\né', line: 4 });
  });

  it("reports problems with their line", () => {
    expectError(() => parseEdnLines('{:process 1, :type :invoke, :f :get}\n[1 2]\n'), "syntax", 2, /expected an EDN map/);
    expectError(() => parseEdnLines('{:process 1, :f :get}\n'), "syntax", 1, /missing or invalid :type/);
    expectError(() => parseEdnLines('{:process 1, :type :invoke, :f :get, :value "x}\n'), "syntax", 1, /unterminated string/);
    expectError(() => parseEdnLines('{:process 1 :type}\n'), "syntax", 1, /odd number of forms/);
  });

  it("the kv model needs a key and string values", () => {
    const noKey = parseEdnLines("{:process 1, :type :invoke, :f :get, :value nil}\n{:process 1, :type :ok, :f :get, :value \"\"}\n");
    expectError(() => checkHistory(kvModel, noKey), "invalid-operation", 1, /needs a key/);
    const badOp = parseEdnLines('{:process 1, :type :invoke, :f :cas, :key "k", :value [1 2]}\n');
    expectError(() => checkHistory(kvModel, badOp), "invalid-operation", 1, /unknown operation "cas" for model kv/);
  });
});

describe("EDN reader", () => {
  it("reads the subset histories use", () => {
    expect(readEdn("nil")).toBeNull();
    expect(readEdn("[3 0]")).toEqual([3, 0]);
    expect(readEdn("-12")).toBe(-12);
    expect(readEdn(":timed-out")).toEqual(new EdnKeyword("timed-out"));
    expect(readEdn("#{1 2} ; comment")).toEqual([1, 2]);
    expect(readEdn("[1 #_ 2 3]")).toEqual([1, 3]);
    const m = readEdn('{:a 1, "b" [true false]}') as EdnMap;
    expect(m.getKeyword("a")).toBe(1);
    expect(() => readEdn("99999999999999999999")).toThrow(/outside the safe range/);
    expect(() => readEdn("[1 2")).toThrow(/missing "\]"/);
    expect(() => readEdn("1 2")).toThrow(/after the value/);
  });
});

describe("json", () => {
  const doc = (ops: string[]) =>
    `{\n  "format": "raftgen-history",\n  "version": 1,\n  "operations": [\n${ops.map((o) => `    ${o}`).join(",\n")}\n  ]\n}\n`;

  it("reads operations and infers outcomes", () => {
    const ops = parseJsonHistory(
      doc([
        '{"client": 1, "op": "write", "input": 3, "call": 10, "return": 20}',
        '{"client": "c2", "op": "write", "input": 4, "call": 11, "return": null, "error": "deadline"}',
        '{"client": 3, "op": "cas", "input": [3, 4], "call": 12, "return": 15, "error": "not leader"}',
        '{"client": 4, "op": "put", "key": 7, "input": "v", "call": 1.5, "return": 2.5, "outcome": "ok", "output": null}',
      ]),
    );
    expect(ops).toEqual([
      { client: "1", call: 10, return: 20, op: "write", input: 3, outcome: "ok", line: 5 },
      { client: "c2", call: 11, return: Infinity, op: "write", input: 4, outcome: "info", error: "deadline", line: 6 },
      { client: "3", call: 12, return: 15, op: "cas", input: [3, 4], outcome: "fail", error: "not leader", line: 7 },
      { client: "4", call: 1.5, return: 2.5, op: "put", key: "7", input: "v", outcome: "ok", output: null, line: 8 },
    ]);
    // A cas that failed with an error taught nothing and is dropped.
    expect(registerModel.fromHistory!(ops[2]!)).toBeUndefined();
  });

  it("accepts an empty operation list", () => {
    expect(parseJsonHistory(doc([]).replace("\n\n", "\n"))).toEqual([]);
  });

  it("reports problems with the line of the operation", () => {
    expectError(
      () => parseJsonHistory(doc(['{"client": 1, "op": "read", "call": 1, "return": 2}', '{"client": 1, "op": "read", "call": 5, "return": 2}'])),
      "syntax",
      6,
      /operations\[1\]: "return" \(2\) is before "call" \(5\)/,
    );
    expectError(
      () => parseJsonHistory(doc(['{"client": 1, "op": "read", "call": 1, "return": 2, "outcome": "info"}'])),
      "syntax",
      5,
      /"return" must be null exactly when "outcome" is "info"/,
    );
    expectError(() => parseJsonHistory(doc(['{"op": "read", "call": 1, "return": 2}'])), "syntax", 5, /"client" must be/);
    expectError(() => parseJsonHistory('{"format": "other", "version": 1}'), "unsupported-format", undefined, /"format" is "other"/);
    expectError(() => parseJsonHistory('{"format": "raftgen-history", "version": 2}'), "unsupported-format", undefined, /version/);
    const err = parseError(() => parseJsonHistory('{\n  "format": "raftgen-history",\n  "version": 1,,\n}'));
    expect(err.code).toBe("syntax");
    expect(err.line).toBe(3);
  });
});

describe("format inference", () => {
  it("recognises every shared history from its content", () => {
    for (const e of readManifest()) {
      expect(inferFormat(readFileSync(sharedPath(e.file), "utf8"))).toBe(e.format);
    }
  });

  it("recognises json and falls back to the extension", () => {
    expect(inferFormat('  {\n "format": "raftgen-history"}')).toBe("json");
    expect(inferFormat("", "h.json")).toBe("json");
    expect(inferFormat("", "h.log")).toBe("jepsen-log");
    expect(inferFormat("", "h.edn")).toBe("edn-lines");
    expect(inferFormat("what is this", "h.txt")).toBeUndefined();
  });

  it("parseHistory dispatches on the format", () => {
    expect(parseHistory(J(["1 :invoke :read nil", "1 :ok :read nil"]), "jepsen-log")).toHaveLength(1);
  });
});
