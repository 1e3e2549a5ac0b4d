// Readers for the history file formats: Jepsen console logs (`jepsen-log`), one EDN map per
// line (`edn-lines`), and raftgen's own recorder output (`json`). Each returns the operations
// as format-independent `HistoryOperation` records (history.ts), or throws HistoryParseError
// with the 1-based line of the problem.
//
// The text formats are described in ../shared/linearizability/README.md. The json format is
// ours; its definition is the comment on `parseJsonHistory` below, and recorder.ts writes it.
//
// This file must not know any model (the register/kv meaning of values is in models/) and must
// not do I/O: callers pass the text.

import { EdnKeyword, EdnMap, EdnSymbol, EdnSyntaxError, readEdn, type EdnValue } from "./edn.js";
import { HistoryParseError } from "./errors.js";
import {
  eventsToOperations,
  type EventType,
  type HistoryEvent,
  type HistoryOperation,
  type HistoryValue,
  type Outcome,
} from "./history.js";

/** The supported history formats. */
export type HistoryFormat = "jepsen-log" | "edn-lines" | "json";

export const HISTORY_FORMATS: readonly HistoryFormat[] = ["jepsen-log", "edn-lines", "json"];

/** The `format` tag of a json history document. */
export const JSON_HISTORY_FORMAT = "raftgen-history";
/** The version of the json history document this code writes and reads. */
export const JSON_HISTORY_VERSION = 1;

/** Reads `text` in the given format. */
export function parseHistory(text: string, format: HistoryFormat): HistoryOperation[] {
  switch (format) {
    case "jepsen-log":
      return parseJepsenLog(text);
    case "edn-lines":
      return parseEdnLines(text);
    case "json":
      return parseJsonHistory(text);
  }
}

/**
 * Guesses the format from the content, then from the file name's extension. Returns
 * `undefined` when neither decides.
 */
export function inferFormat(text: string, fileName?: string): HistoryFormat | undefined {
  const m = /^\s*(\S)\s*(\S)?/.exec(text.slice(0, 4096));
  if (m !== null && m[1] === "{") {
    if (m[2] === '"' || m[2] === "}") return "json";
    if (m[2] === ":") return "edn-lines";
  }
  for (const line of text.slice(0, 65536).split("\n", 50)) {
    const tokens = line.trim().split(/\s+/);
    if (tokens[1] === "jepsen.util" && /^\d+$/.test(tokens[3] ?? "")) return "jepsen-log";
  }
  const ext = /\.([A-Za-z0-9-]+)$/.exec(fileName ?? "")?.[1]?.toLowerCase();
  if (ext === "json") return "json";
  if (ext === "log") return "jepsen-log";
  if (ext === "edn" || ext === "ednl") return "edn-lines";
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// jepsen-log

/**
 * Reads a Jepsen console log: lines `INFO jepsen.util - <process> <type> <f> <value>`,
 * separated by tabs or runs of spaces. Only lines whose 4th token is an integer are events
 * (nemesis and setup lines are skipped); such a line must be well formed. The value is read as
 * EDN, so `[3 0]` (two tokens) is a pair and `:timed-out` an error keyword.
 */
export function parseJepsenLog(text: string): HistoryOperation[] {
  const events: HistoryEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const tokens = lines[i]!.trim().split(/\s+/);
    if (tokens.length < 4 || !/^\d+$/.test(tokens[3]!)) continue;
    if (tokens.length < 7) {
      throw new HistoryParseError(
        "syntax",
        `expected "<process> <type> <f> <value>" after "${tokens.slice(0, 3).join(" ")}", got ${tokens.length - 3} tokens`,
        lineNo,
      );
    }
    const type = eventType(tokens[4]!, lineNo);
    const f = keywordToken(tokens[5]!, "the operation", lineNo);
    const raw = readValue(tokens.slice(6).join(" "), lineNo);
    events.push(makeEvent(lineNo, tokens[3]!, type, f, undefined, raw));
  }
  if (events.length === 0) {
    throw new HistoryParseError(
      "no-operations",
      "no Jepsen operation lines found (expected `INFO jepsen.util - <process> <type> <f> <value>`)",
    );
  }
  return eventsToOperations(events);
}

function eventType(tok: string, line: number): EventType {
  switch (tok) {
    case ":invoke":
      return "invoke";
    case ":ok":
      return "ok";
    case ":fail":
      return "fail";
    case ":info":
      return "info";
    default:
      throw new HistoryParseError(
        "syntax",
        `unknown event type ${JSON.stringify(tok)} (expected :invoke, :ok, :fail or :info)`,
        line,
      );
  }
}

function keywordToken(tok: string, what: string, line: number): string {
  if (!/^:[^\s:]\S*$/.test(tok)) {
    throw new HistoryParseError("syntax", `${what} must be a keyword like :read, got ${JSON.stringify(tok)}`, line);
  }
  return tok.slice(1);
}

function readValue(text: string, line: number): EdnValue {
  try {
    return readEdn(text);
  } catch (err) {
    if (err instanceof EdnSyntaxError) {
      throw new HistoryParseError("syntax", `bad value ${JSON.stringify(text)}: ${err.detail}`, line, {
        cause: err,
      });
    }
    throw err;
  }
}

/** A top-level keyword value (`:timed-out`) is an error marker, not a value. */
function makeEvent(
  line: number,
  client: string,
  type: EventType,
  op: string,
  key: string | undefined,
  raw: EdnValue,
): HistoryEvent {
  const base = { line, client, type, op, ...(key === undefined ? {} : { key }) };
  if (raw instanceof EdnKeyword) return { ...base, value: null, error: raw.name };
  return { ...base, value: ednToValue(raw) };
}

/** Converts EDN to JSON-like values: keywords and symbols become text, sets become arrays. */
function ednToValue(v: EdnValue): HistoryValue {
  if (v instanceof EdnKeyword) return `:${v.name}`;
  if (v instanceof EdnSymbol) return v.name;
  if (v instanceof EdnMap) {
    const o: Record<string, HistoryValue> = {};
    for (const [k, x] of v.entries) {
      o[k instanceof EdnKeyword ? k.name : typeof k === "string" ? k : String(k)] = ednToValue(x);
    }
    return o;
  }
  if (Array.isArray(v)) return (v as readonly EdnValue[]).map(ednToValue);
  return v as null | boolean | number | string;
}

// ---------------------------------------------------------------------------------------------
// edn-lines

/**
 * Reads one EDN map per line, e.g.
 * `{:process 6, :type :invoke, :f :append, :key "0", :value "x 6 0 y"}`. Required keys are
 * `:process` (an integer; maps whose process is a keyword such as `:nemesis` are skipped),
 * `:type` and `:f`; `:key` and `:value` are optional (`nil` when absent). Blank lines and
 * `;` comment lines are skipped.
 */
export function parseEdnLines(text: string): HistoryOperation[] {
  const events: HistoryEvent[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const src = lines[i]!.trim();
    if (src === "" || src.startsWith(";")) continue;
    const v = readValue(src, lineNo);
    if (!(v instanceof EdnMap)) {
      throw new HistoryParseError("syntax", "expected an EDN map {:process ..., :type ..., :f ...}", lineNo);
    }
    const process = v.getKeyword("process");
    if (process instanceof EdnKeyword) continue;
    if (typeof process !== "number" && typeof process !== "string") {
      throw new HistoryParseError("syntax", "missing or invalid :process (expected an integer)", lineNo);
    }
    const type = v.getKeyword("type");
    if (!(type instanceof EdnKeyword)) {
      throw new HistoryParseError("syntax", "missing or invalid :type (expected :invoke, :ok, :fail or :info)", lineNo);
    }
    const f = v.getKeyword("f");
    const op = f instanceof EdnKeyword ? f.name : typeof f === "string" ? f : undefined;
    if (op === undefined || op === "") {
      throw new HistoryParseError("syntax", "missing or invalid :f (expected a keyword like :get)", lineNo);
    }
    const rawKey = v.getKeyword("key");
    let key: string | undefined;
    if (typeof rawKey === "string" || typeof rawKey === "number") key = String(rawKey);
    else if (rawKey instanceof EdnKeyword) key = rawKey.name;
    else if (rawKey !== undefined && rawKey !== null) {
      throw new HistoryParseError("syntax", "invalid :key (expected a string, integer or keyword)", lineNo);
    }
    const value = v.getKeyword("value") ?? null;
    events.push(makeEvent(lineNo, String(process), eventType(`:${type.name}`, lineNo), op, key, value));
  }
  if (events.length === 0) {
    throw new HistoryParseError("no-operations", "no operation lines found (expected one EDN map per line)");
  }
  return eventsToOperations(events);
}

// ---------------------------------------------------------------------------------------------
// json

/**
 * Reads raftgen's own history document, as written by `HistoryRecorder`:
 *
 * ```json
 * {
 *   "format": "raftgen-history",
 *   "version": 1,
 *   "timeUnit": "ns",
 *   "operations": [
 *     {"client": "c1", "op": "put", "key": "k", "input": "v", "call": 1200, "return": 1875, "outcome": "ok", "output": null},
 *     {"client": "c2", "op": "get", "key": "k", "input": null, "call": 1300, "return": 1500, "outcome": "ok", "output": "v"},
 *     {"client": "c3", "op": "put", "key": "k", "input": "w", "call": 1400, "return": null, "outcome": "info", "error": "deadline exceeded"}
 *   ]
 * }
 * ```
 *
 * - `format` must be `"raftgen-history"` and `version` must be 1. `timeUnit` (`"ns"`, `"ms"`,
 *   ...) is informational: only the order of times matters.
 * - `client`: string or number. `op`: the operation name the model understands (register:
 *   `read`/`write`/`cas`; kv: `get`/`put`/`append`). `key`: string or number, optional.
 * - `input`: any JSON value (`null` when absent). For cas, `[from, to]`.
 * - `call`: a finite number. `return`: a number `>= call`, or `null` for an operation whose
 *   outcome is unknown (it may take effect at any time after `call`, or never).
 * - `outcome`: `"ok"` (took effect, `output` is its result), `"fail"` (certainly did not take
 *   effect) or `"info"` (unknown; `return` must be null). When absent it is `"info"` if
 *   `return` is null, `"fail"` if `error` is present, `"ok"` otherwise.
 * - `output`: any JSON value, the result of an `ok` (or the observation of a `fail`, e.g. a
 *   failed compare). `error`: text, for `fail` and `info`.
 *
 * Times need not be sorted and operations may appear in any order. Errors name the line where
 * the offending operation starts.
 */
export function parseJsonHistory(text: string): HistoryOperation[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    const pos = /position (\d+)/.exec((err as Error).message)?.[1];
    const line = pos === undefined ? undefined : lineAt(text, Number(pos));
    throw new HistoryParseError("syntax", `invalid JSON: ${(err as Error).message}`, line, { cause: err });
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new HistoryParseError("syntax", 'expected a JSON object {"format": "raftgen-history", ...}', 1);
  }
  const d = doc as Record<string, unknown>;
  if (d.format !== JSON_HISTORY_FORMAT) {
    throw new HistoryParseError(
      "unsupported-format",
      `"format" is ${JSON.stringify(d.format)}, expected "${JSON_HISTORY_FORMAT}"`,
    );
  }
  if (d.version !== JSON_HISTORY_VERSION) {
    throw new HistoryParseError(
      "unsupported-format",
      `"version" is ${JSON.stringify(d.version)}, this reader knows version ${JSON_HISTORY_VERSION}`,
    );
  }
  if (!Array.isArray(d.operations)) {
    throw new HistoryParseError("syntax", '"operations" must be an array');
  }
  const lines = operationLines(text);
  return d.operations.map((o: unknown, i: number) => jsonOperation(o, i, lines[i]));
}

function jsonOperation(o: unknown, index: number, line: number | undefined): HistoryOperation {
  const bad = (detail: string): never => {
    throw new HistoryParseError("syntax", `operations[${index}]: ${detail}`, line);
  };
  if (typeof o !== "object" || o === null || Array.isArray(o)) return bad("expected an object");
  const r = o as Record<string, unknown>;
  const client = r.client;
  if (typeof client !== "string" && typeof client !== "number") return bad('"client" must be a string or number');
  if (typeof r.op !== "string" || r.op === "") return bad('"op" must be a non-empty string');
  const key = r.key;
  if (key !== undefined && typeof key !== "string" && typeof key !== "number") {
    return bad('"key" must be a string or number');
  }
  const call = r.call;
  if (typeof call !== "number" || !Number.isFinite(call)) return bad('"call" must be a finite number');
  const ret = r.return;
  if (ret !== null && (typeof ret !== "number" || !Number.isFinite(ret))) {
    return bad('"return" must be a finite number or null');
  }
  if (ret !== null && ret < call) return bad(`"return" (${ret}) is before "call" (${call})`);
  if (r.error !== undefined && typeof r.error !== "string") return bad('"error" must be a string');
  let outcome: Outcome;
  if (r.outcome === undefined) outcome = ret === null ? "info" : r.error !== undefined ? "fail" : "ok";
  else if (r.outcome === "ok" || r.outcome === "fail" || r.outcome === "info") outcome = r.outcome;
  else return bad('"outcome" must be "ok", "fail" or "info"');
  if ((outcome === "info") !== (ret === null)) {
    return bad(`"return" must be null exactly when "outcome" is "info" (got ${JSON.stringify(ret)} with "${outcome}")`);
  }
  const rec: { -readonly [K in keyof HistoryOperation]: HistoryOperation[K] } = {
    client: String(client),
    call,
    return: ret === null ? Infinity : ret,
    op: r.op,
    input: (r.input ?? null) as HistoryValue,
    outcome,
  };
  if (key !== undefined) rec.key = String(key);
  if (outcome !== "info" && r.output !== undefined) rec.output = r.output as HistoryValue;
  if (r.error !== undefined) rec.error = r.error as string;
  if (line !== undefined) rec.line = line;
  return rec;
}

function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * The 1-based line where each element of the top-level "operations" array starts. Only
 * called on text JSON.parse accepted, so it can scan without validating.
 */
function operationLines(text: string): number[] {
  const out: number[] = [];
  let line = 1;
  let depth = 0;
  let inOps = false; // inside the top-level "operations" array
  let lastKey = ""; // the last string seen at depth 1, when followed by ':'
  let lastString = "";
  let expectElement = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n") {
      line++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") continue;
    if (c === '"') {
      const start = i;
      i++;
      while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      lastString = text.slice(start + 1, i);
      if (inOps && depth === 2 && expectElement) {
        out.push(line);
        expectElement = false;
      }
      continue;
    }
    if (c === ":") {
      if (depth === 1) lastKey = lastString;
      continue;
    }
    if (c === ",") {
      if (inOps && depth === 2) expectElement = true;
      continue;
    }
    if (c === "{" || c === "[") {
      if (inOps && depth === 2 && expectElement) {
        out.push(line);
        expectElement = false;
      }
      depth++;
      if (c === "[" && depth === 2 && lastKey === "operations") {
        inOps = true;
        expectElement = true;
      }
      continue;
    }
    if (c === "}" || c === "]") {
      if (inOps && depth === 2) inOps = false;
      depth--;
      continue;
    }
    // A number, true, false or null.
    if (inOps && depth === 2 && expectElement) {
      out.push(line);
      expectElement = false;
    }
  }
  return out;
}
