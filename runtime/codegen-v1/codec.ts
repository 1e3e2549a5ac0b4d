// The protobuf codec of a generated service: compileService() turns a ServiceDescriptor into a
// CompiledService that converts, exactly and with validation, between the TypeScript values
// generated code works with and protobuf bytes (and proto3 JSON, for tools).
//
// TypeScript representation (GENERATOR-PLAN "Generated files"): string -> string, bytes ->
// Uint8Array, bool -> boolean, int32/uint32/double/float -> number, int64/uint64 -> bigint
// (exact over the whole 64-bit range: 64-bit values go through protobufjs's Long, never
// through a JS number), enum -> the value's name, message -> object with camelCase
// properties, repeated -> array, map<string, T> -> Record<string, T>, optional -> property
// absent (undefined) unless present on the wire. After decode every non-optional field is
// present (proto3 defaults; a message-typed field gets an object of defaults).
//
// Encoding is canonical: fields in number order, non-optional fields holding their default
// omitted, repeated numbers packed, map entries sorted by key. So a value has one encoding,
// whoever encodes it. Decoding is strict: wire types are checked, strings must be valid
// UTF-8, enum numbers must be known, lengths must fit. Every refusal is a CodecError whose
// message starts with the path of the field at fault (`SetInput.key: expected a string, got
// undefined`; for JSON `field "node_id": 1.5 is not an integer`). Unknown fields are skipped
// on decode (a newer spec may have added them); unknown properties of a value are ignored on
// encode, as protobufjs and protobuf-es do.
//
// The wire work uses protobufjs's Reader and Writer; compileService also builds a protobufjs
// Root (package namespace, snake_case field names) for tools that want reflection. This
// module does no I/O and must not import the generator.

import Long from "long";
import protobuf from "protobufjs";
import type { EnumDescriptor, FieldDescriptor, MessageDescriptor, MethodDescriptor, ScalarName, ServiceDescriptor, TableDescriptor } from "./descriptor.js";

// protobufjs picks up `long` by itself when it can; make sure it did, or 64-bit reads would
// come back as lossy numbers.
if (!protobuf.util.Long) {
  protobuf.util.Long = Long as unknown as typeof protobuf.util.Long;
  protobuf.configure();
}

/** A value that does not fit its message, or bytes that do not decode; `path` names the field. */
export class CodecError extends Error {
  override readonly name = "CodecError";
  constructor(
    /** The field at fault: `SetInput.node.labels["a"]` (TS values) or `node_id` (JSON). */
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

/** A JSON value (what toJson returns and fromJson accepts). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

const SCALARS: ReadonlySet<string> = new Set<ScalarName>(["string", "bytes", "bool", "int32", "uint32", "int64", "uint64", "double", "float"]);
const KEY_TYPES: ReadonlySet<string> = new Set(["string", "uint64", "int64", "uint32"]);
const CONSISTENCIES: ReadonlySet<string> = new Set(["linearizable", "lease", "stale"]);
const PACKAGE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const MAX_FIELD_NUMBER = 536_870_911;
const MAX_DEPTH = 100;

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const UINT32_MAX = 2 ** 32 - 1;
const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;
const UINT64_MAX = (1n << 64n) - 1n;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// ignoreBOM: a leading U+FEFF is part of the string, not a byte-order mark to drop.
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const WIRE_VARINT = 0;
const WIRE_I64 = 1;
const WIRE_LEN = 2;
const WIRE_I32 = 5;

// ---------------------------------------------------------------------------------------
// The compiled form: descriptors with names resolved to objects.

type Kind =
  | { readonly k: "scalar"; readonly s: ScalarName }
  | { readonly k: "enum"; readonly e: CompiledEnum }
  | { readonly k: "message"; readonly m: CompiledMessage };

interface CompiledEnum {
  readonly name: string;
  readonly byName: ReadonlyMap<string, number>;
  readonly byNumber: ReadonlyMap<number, string>;
  /** The name of value 0. */
  readonly defaultName: string;
}

interface CompiledField {
  /** snake_case (proto and JSON-input name). */
  readonly name: string;
  /** TypeScript property. */
  readonly ts: string;
  /** proto3 JSON name (lowerCamelCase). */
  readonly json: string;
  readonly no: number;
  readonly optional: boolean;
  readonly repeated: boolean;
  readonly map: boolean;
  kind: Kind;
}

interface CompiledMessage {
  readonly name: string;
  readonly fields: CompiledField[];
  readonly byNumber: Map<number, CompiledField>;
  /** By JSON name and by proto name (proto3 JSON parsers accept both). */
  readonly byJsonKey: Map<string, CompiledField>;
}

/** proto3 JSON name: underscores dropped, the letter after each capitalised. */
function jsonName(snake: string): string {
  return snake.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function wireTypeOf(kind: Kind): number {
  if (kind.k === "message") return WIRE_LEN;
  if (kind.k === "enum") return WIRE_VARINT;
  switch (kind.s) {
    case "string":
    case "bytes":
      return WIRE_LEN;
    case "double":
      return WIRE_I64;
    case "float":
      return WIRE_I32;
    default:
      return WIRE_VARINT;
  }
}

const packable = (kind: Kind) => wireTypeOf(kind) !== WIRE_LEN;
const tag = (no: number, wire: number) => ((no << 3) | wire) >>> 0;
const kindName = (kind: Kind) => (kind.k === "scalar" ? kind.s : kind.k === "enum" ? kind.e.name : kind.m.name);

// ---------------------------------------------------------------------------------------
// Descriptor checks: generated code is trusted to be right, but a hand-written or corrupted
// descriptor must fail at start-up with a precise message, not encode nonsense later.

function invalidDescriptor(desc: ServiceDescriptor, what: string): Error {
  return new Error(`invalid service descriptor ${JSON.stringify(desc.service)}: ${what}`);
}

function checkFieldShape(desc: ServiceDescriptor, msg: string, f: FieldDescriptor, seen: { names: Set<string>; ts: Set<string>; nos: Set<number> }): void {
  const where = `message ${msg} field ${JSON.stringify(f.name)}`;
  if (!IDENT.test(f.name) || !IDENT.test(f.ts)) throw invalidDescriptor(desc, `${where}: bad name or ts name`);
  if (f.ts in Object.prototype) throw invalidDescriptor(desc, `${where}: ts name ${JSON.stringify(f.ts)} is reserved`);
  if (!Number.isInteger(f.no) || f.no < 1 || f.no > MAX_FIELD_NUMBER || (f.no >= 19_000 && f.no <= 19_999)) {
    throw invalidDescriptor(desc, `${where}: field number ${f.no} is not a usable protobuf field number`);
  }
  if (seen.names.has(f.name) || seen.ts.has(f.ts) || seen.nos.has(f.no)) throw invalidDescriptor(desc, `${where}: name, ts name or number used twice`);
  seen.names.add(f.name);
  seen.ts.add(f.ts);
  seen.nos.add(f.no);
  if (f.map && (f.repeated || f.optional)) throw invalidDescriptor(desc, `${where}: a map field cannot be repeated or optional`);
  if (f.repeated && f.optional) throw invalidDescriptor(desc, `${where}: a field cannot be both repeated and optional`);
}

// ---------------------------------------------------------------------------------------
// Describing bad values in messages.

function describe(v: unknown): string {
  if (v === undefined) return "undefined";
  if (v === null) return "null";
  switch (typeof v) {
    case "string":
      return `string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
    case "number":
      return `number ${v}`;
    case "bigint":
      return `bigint ${v}n`;
    case "boolean":
      return `boolean ${v}`;
    case "function":
      return "a function";
    case "symbol":
      return "a symbol";
  }
  if (Array.isArray(v)) return "an array";
  if (v instanceof Uint8Array) return "a Uint8Array";
  return "an object";
}

const quoteKey = (k: string) => `[${JSON.stringify(k)}]`;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

// ---------------------------------------------------------------------------------------
// TypeScript value checks (shared by encode and toJson).

type Checked = string | number | boolean | bigint | Uint8Array | Record<string, unknown>;

function expected(path: string, what: string, v: unknown): CodecError {
  return new CodecError(path, `${path}: expected ${what}, got ${describe(v)}`);
}

/** Validate one (non-repeated) TypeScript value of `kind`; enums come back as their number. */
function checkValue(kind: Kind, v: unknown, path: string): Checked {
  if (kind.k === "message") {
    if (!isPlainObject(v)) throw expected(path, `a ${kind.m.name} object`, v);
    return v;
  }
  if (kind.k === "enum") {
    if (typeof v !== "string") throw expected(path, `a ${kind.e.name} name (${[...kind.e.byName.keys()].join(", ")})`, v);
    const n = kind.e.byName.get(v);
    if (n === undefined) throw new CodecError(path, `${path}: ${JSON.stringify(v)} is not a value of ${kind.e.name} (${[...kind.e.byName.keys()].join(", ")})`);
    return n;
  }
  switch (kind.s) {
    case "string":
      if (typeof v !== "string") throw expected(path, "a string", v);
      if (LONE_SURROGATE.test(v)) throw new CodecError(path, `${path}: the string contains a lone surrogate (not representable in UTF-8)`);
      return v;
    case "bytes":
      if (!(v instanceof Uint8Array)) throw expected(path, "a Uint8Array", v);
      return v;
    case "bool":
      if (typeof v !== "boolean") throw expected(path, "a boolean", v);
      return v;
    case "int32":
    case "uint32": {
      if (typeof v !== "number") throw expected(path, `a number (${kind.s})`, v);
      if (!Number.isInteger(v)) throw new CodecError(path, `${path}: ${v} is not an integer`);
      const [lo, hi] = kind.s === "int32" ? [INT32_MIN, INT32_MAX] : [0, UINT32_MAX];
      if (v < lo || v > hi) throw new CodecError(path, `${path}: ${v} is out of the ${kind.s} range`);
      return Object.is(v, -0) ? 0 : v;
    }
    case "int64":
    case "uint64": {
      if (typeof v !== "bigint") throw expected(path, `a bigint (${kind.s})`, v);
      const [lo, hi] = kind.s === "int64" ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
      if (v < lo || v > hi) throw new CodecError(path, `${path}: ${v}n is out of the ${kind.s} range`);
      return v;
    }
    case "double":
      if (typeof v !== "number") throw expected(path, "a number (double)", v);
      return v;
    case "float":
      if (typeof v !== "number") throw expected(path, "a number (float)", v);
      if (Number.isFinite(v) && !Number.isFinite(Math.fround(v))) throw new CodecError(path, `${path}: ${v} is out of the float range`);
      return v;
  }
}

/** Whether a checked non-message value is its type's default (omitted on the wire). */
function isDefault(kind: Kind, v: Checked): boolean {
  if (kind.k === "message") return false;
  if (kind.k === "enum") return v === 0;
  switch (kind.s) {
    case "string":
      return v === "";
    case "bytes":
      return (v as Uint8Array).length === 0;
    case "bool":
      return v === false;
    case "int64":
    case "uint64":
      return v === 0n;
    default:
      // -0 is not the default of a double: it must survive a round trip.
      return Object.is(v, 0);
  }
}

function sortedKeys(o: Record<string, unknown>): string[] {
  return Object.keys(o).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

// ---------------------------------------------------------------------------------------
// Encoding.

/** A Long with the 64 bits of `v` (two exact 32-bit halves; never a JS number of the whole). */
function toLong(v: bigint, unsigned: boolean): Long {
  const u = BigInt.asUintN(64, v);
  return new Long(Number(u & 0xffff_ffffn) | 0, Number(u >> 32n) | 0, unsigned);
}

function fromLong(l: { low: number; high: number }, signed: boolean): bigint {
  const u = (BigInt(l.high >>> 0) << 32n) | BigInt(l.low >>> 0);
  return signed ? BigInt.asIntN(64, u) : u;
}

/** Write a checked value without its tag (packed element or after writeTag). */
function writeRaw(w: protobuf.Writer, kind: Kind, v: Checked, path: string): void {
  if (kind.k === "message") {
    w.fork();
    encodeFields(w, kind.m, v as Record<string, unknown>, path);
    w.ldelim();
    return;
  }
  if (kind.k === "enum") {
    w.int32(v as number);
    return;
  }
  switch (kind.s) {
    case "string":
      w.string(v as string);
      return;
    case "bytes":
      w.bytes(v as Uint8Array);
      return;
    case "bool":
      w.bool(v as boolean);
      return;
    case "int32":
      w.int32(v as number);
      return;
    case "uint32":
      w.uint32(v as number);
      return;
    case "int64":
      w.int64(toLong(v as bigint, false));
      return;
    case "uint64":
      w.uint64(toLong(v as bigint, true));
      return;
    case "double":
      w.double(v as number);
      return;
    case "float":
      w.float(v as number);
      return;
  }
}

function encodeField(w: protobuf.Writer, f: CompiledField, v: unknown, path: string): void {
  const kind = f.kind;
  if (f.map) {
    if (!isPlainObject(v)) throw expected(path, `an object (map<string, ${kindName(kind)}>)`, v);
    for (const key of sortedKeys(v)) {
      const p = `${path}${quoteKey(key)}`;
      if (LONE_SURROGATE.test(key)) throw new CodecError(p, `${p}: the key contains a lone surrogate (not representable in UTF-8)`);
      const checked = checkValue(kind, v[key], p);
      w.uint32(tag(f.no, WIRE_LEN)).fork();
      w.uint32(tag(1, WIRE_LEN)).string(key);
      w.uint32(tag(2, wireTypeOf(kind)));
      writeRaw(w, kind, checked, p);
      w.ldelim();
    }
    return;
  }
  if (f.repeated) {
    if (!Array.isArray(v)) throw expected(path, `an array of ${kindName(kind)}`, v);
    if (v.length === 0) return;
    if (packable(kind)) {
      const checked = v.map((el, i) => checkValue(kind, el, `${path}[${i}]`));
      w.uint32(tag(f.no, WIRE_LEN)).fork();
      checked.forEach((c, i) => writeRaw(w, kind, c, `${path}[${i}]`));
      w.ldelim();
    } else {
      v.forEach((el, i) => {
        const p = `${path}[${i}]`;
        const c = checkValue(kind, el, p);
        w.uint32(tag(f.no, WIRE_LEN));
        writeRaw(w, kind, c, p);
      });
    }
    return;
  }
  if (v === undefined && f.optional) return;
  const checked = checkValue(kind, v, path);
  if (!f.optional && isDefault(kind, checked)) return;
  w.uint32(tag(f.no, wireTypeOf(kind)));
  writeRaw(w, kind, checked, path);
}

function encodeFields(w: protobuf.Writer, m: CompiledMessage, obj: Record<string, unknown>, path: string): void {
  for (const f of m.fields) encodeField(w, f, obj[f.ts], `${path}.${f.ts}`);
}

// ---------------------------------------------------------------------------------------
// Decoding. Fields are collected raw first (so that a message field seen twice is merged, as
// protobuf requires), then turned into the TypeScript value with defaults filled in.

type Raw = Map<CompiledField, unknown>;
type RawValue = string | number | boolean | bigint | Uint8Array | Raw;

function malformed(path: string, what: string): CodecError {
  return new CodecError(path, `${path}: ${what}`);
}

/** The bounds of a length-delimited field starting at r.pos; the reader is moved past it. */
function lenBounds(r: protobuf.Reader, end: number, path: string): [number, number] {
  const len = r.uint32();
  const start = r.pos;
  if (start > end || len > end - start) throw malformed(path, `length ${len} runs past the end of its message`);
  r.pos = start + len;
  return [start, start + len];
}

function readRaw(r: protobuf.Reader, kind: Kind, end: number, path: string, depth: number): RawValue {
  if (kind.k === "message") {
    const [start, stop] = lenBounds(r, end, path);
    const raw: Raw = new Map();
    r.pos = start;
    decodeInto(r, kind.m, raw, stop, path, depth + 1); // leaves r.pos at stop
    return raw;
  }
  if (kind.k === "enum") {
    const n = r.int32();
    if (!kind.e.byNumber.has(n)) throw malformed(path, `${n} is not a number of ${kind.e.name}`);
    return n;
  }
  switch (kind.s) {
    case "string": {
      const [start, stop] = lenBounds(r, end, path);
      try {
        return utf8.decode(r.buf.subarray(start, stop));
      } catch {
        throw malformed(path, "the string is not valid UTF-8");
      }
    }
    case "bytes": {
      const [start, stop] = lenBounds(r, end, path);
      // A copy, as a plain Uint8Array: the value must not alias the input (a log entry).
      return new Uint8Array(r.buf.subarray(start, stop));
    }
    case "bool":
      return r.bool();
    case "int32":
      return r.int32();
    case "uint32":
      return r.uint32();
    case "int64":
      return fromLong(r.int64() as unknown as Long, true);
    case "uint64":
      return fromLong(r.uint64() as unknown as Long, false);
    case "double":
      return r.double();
    case "float":
      return r.float();
  }
}

function decodeInto(r: protobuf.Reader, m: CompiledMessage, raw: Raw, end: number, path: string, depth: number): void {
  if (depth > MAX_DEPTH) throw malformed(path, `messages nested deeper than ${MAX_DEPTH}`);
  while (r.pos < end) {
    const t = r.uint32();
    const no = t >>> 3;
    const wire = t & 7;
    if (no === 0) throw malformed(path, "field number 0 on the wire");
    const f = m.byNumber.get(no);
    if (!f) {
      r.skipType(wire);
      continue;
    }
    const p = `${path}.${f.ts}`;
    const kind = f.kind;
    if (f.map) {
      if (wire !== WIRE_LEN) throw malformed(p, `wire type ${wire} for a map entry (expected ${WIRE_LEN})`);
      const [start, stop] = lenBounds(r, end, p);
      const after = r.pos;
      r.pos = start;
      let key = "";
      let value: RawValue | undefined;
      while (r.pos < stop) {
        const et = r.uint32();
        const eno = et >>> 3;
        const ewire = et & 7;
        if (eno === 1) {
          if (ewire !== WIRE_LEN) throw malformed(p, `wire type ${ewire} for a map key (expected ${WIRE_LEN})`);
          key = readRaw(r, { k: "scalar", s: "string" }, stop, `${p} key`, depth) as string;
        } else if (eno === 2) {
          if (ewire !== wireTypeOf(kind)) throw malformed(p, `wire type ${ewire} for a map value (expected ${wireTypeOf(kind)})`);
          value = readRaw(r, kind, stop, `${p}${quoteKey(key)}`, depth);
        } else {
          r.skipType(ewire);
        }
      }
      if (r.pos !== stop) throw malformed(p, "a map entry runs past its length");
      r.pos = after;
      let entries = raw.get(f) as Map<string, RawValue | undefined> | undefined;
      if (!entries) raw.set(f, (entries = new Map()));
      entries.set(key, value);
    } else if (f.repeated) {
      let list = raw.get(f) as RawValue[] | undefined;
      if (!list) raw.set(f, (list = []));
      if (wire === WIRE_LEN && packable(kind)) {
        const [start, stop] = lenBounds(r, end, p);
        const after = r.pos;
        r.pos = start;
        while (r.pos < stop) list.push(readRaw(r, kind, stop, `${p}[${list.length}]`, depth));
        if (r.pos !== stop) throw malformed(p, "a packed element runs past the packed length");
        r.pos = after;
      } else {
        if (wire !== wireTypeOf(kind)) throw malformed(p, `wire type ${wire} where ${kindName(kind)} has ${wireTypeOf(kind)}`);
        list.push(readRaw(r, kind, end, `${p}[${list.length}]`, depth));
      }
    } else {
      if (wire !== wireTypeOf(kind)) throw malformed(p, `wire type ${wire} where ${kindName(kind)} has ${wireTypeOf(kind)}`);
      const value = readRaw(r, kind, end, p, depth);
      const prev = raw.get(f);
      if (kind.k === "message" && prev instanceof Map) {
        // A message field seen twice is merged (protobuf encoding rules).
        for (const [k, v] of value as Raw) mergeRaw(prev as Raw, k, v);
      } else {
        raw.set(f, value);
      }
    }
  }
  if (r.pos !== end) throw malformed(path, "the last field runs past the end of its message");
}

function mergeRaw(into: Raw, f: CompiledField, v: unknown): void {
  const prev = into.get(f);
  if (prev === undefined) into.set(f, v);
  else if (f.repeated) (prev as unknown[]).push(...(v as unknown[]));
  else if (f.map) for (const [k, x] of v as Map<string, unknown>) (prev as Map<string, unknown>).set(k, x);
  else if (f.kind.k === "message") for (const [k, x] of v as Raw) mergeRaw(prev as Raw, k, x);
  else into.set(f, v);
}

function defaultOf(kind: Kind): unknown {
  if (kind.k === "message") return finish(kind.m, new Map());
  if (kind.k === "enum") return kind.e.defaultName;
  switch (kind.s) {
    case "string":
      return "";
    case "bytes":
      return new Uint8Array(0);
    case "bool":
      return false;
    case "int64":
    case "uint64":
      return 0n;
    default:
      return 0;
  }
}

function finishValue(kind: Kind, v: RawValue | undefined): unknown {
  if (v === undefined) return defaultOf(kind);
  if (kind.k === "message") return finish(kind.m, v as Raw);
  if (kind.k === "enum") return kind.e.byNumber.get(v as number);
  return v;
}

function setProp(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

function finish(m: CompiledMessage, raw: Raw): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of m.fields) {
    const v = raw.get(f);
    if (f.map) {
      const obj: Record<string, unknown> = {};
      if (v) for (const [k, x] of v as Map<string, RawValue | undefined>) setProp(obj, k, finishValue(f.kind, x));
      out[f.ts] = obj;
    } else if (f.repeated) {
      out[f.ts] = v ? (v as RawValue[]).map((x) => finishValue(f.kind, x)) : [];
    } else if (v !== undefined) {
      out[f.ts] = finishValue(f.kind, v as RawValue);
    } else if (!f.optional) {
      out[f.ts] = defaultOf(f.kind);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// proto3 JSON mapping (https://protobuf.dev/programming-guides/json/): lowerCamelCase names
// (both names accepted on input), 64-bit integers as decimal strings, bytes as base64, enums
// by name, NaN/Infinity as strings. Output lists every non-optional field, defaults included
// (protobuf's "emit unpopulated" option), so tools show the whole value.

const jsonPath = (path: string) => `field "${path}"`;
/** A map key in a JSON path: `labels['zone']` (single quotes: the path itself is in double quotes). */
const jsonKey = (k: string) => `['${k.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}']`;

function jsonError(path: string, what: string): CodecError {
  return new CodecError(path, `${jsonPath(path)}: ${what}`);
}

function scalarToJson(kind: Kind, v: Checked): JsonValue {
  if (kind.k === "enum") return kind.e.byNumber.get(v as number)!;
  if (kind.k === "message") throw new Error("unreachable");
  switch (kind.s) {
    case "int64":
    case "uint64":
      return (v as bigint).toString();
    case "bytes":
      return Buffer.from((v as Uint8Array).buffer, (v as Uint8Array).byteOffset, (v as Uint8Array).byteLength).toString("base64");
    case "double":
    case "float": {
      const n = kind.s === "float" ? Math.fround(v as number) : (v as number);
      if (Number.isNaN(n)) return "NaN";
      if (n === Infinity) return "Infinity";
      if (n === -Infinity) return "-Infinity";
      return n;
    }
    default:
      return v as JsonValue;
  }
}

function valueToJson(kind: Kind, v: unknown, path: string): JsonValue {
  const checked = checkValue(kind, v, path);
  if (kind.k === "message") return messageToJson(kind.m, checked as Record<string, unknown>, path);
  return scalarToJson(kind, checked);
}

function messageToJson(m: CompiledMessage, obj: Record<string, unknown>, path: string): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const f of m.fields) {
    const v = obj[f.ts];
    const p = `${path}.${f.ts}`;
    if (f.map) {
      if (!isPlainObject(v)) throw expected(p, `an object (map<string, ${kindName(f.kind)}>)`, v);
      const o: { [key: string]: JsonValue } = {};
      for (const k of sortedKeys(v)) setProp(o, k, valueToJson(f.kind, v[k], `${p}${quoteKey(k)}`));
      out[f.json] = o;
    } else if (f.repeated) {
      if (!Array.isArray(v)) throw expected(p, `an array of ${kindName(f.kind)}`, v);
      out[f.json] = v.map((x, i) => valueToJson(f.kind, x, `${p}[${i}]`));
    } else if (!(v === undefined && f.optional)) {
      out[f.json] = valueToJson(f.kind, v, p);
    }
  }
  return out;
}

const DECIMAL = /^-?(0|[1-9][0-9]*)$/;
const FLOAT_TEXT = /^-?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

function jsonInteger(s: "int32" | "uint32" | "int64" | "uint64", v: unknown, path: string): number | bigint {
  let big: bigint;
  if (typeof v === "number") {
    if (!Number.isInteger(v)) throw jsonError(path, `${v} is not an integer`);
    if (!Number.isSafeInteger(v)) throw jsonError(path, `${v} is beyond 2^53 and may not be exact as a JSON number; pass it as a decimal string`);
    big = BigInt(v);
  } else if (typeof v === "string") {
    if (!DECIMAL.test(v) && v !== "-0") throw jsonError(path, `${JSON.stringify(v)} is not a decimal integer`);
    big = BigInt(v);
  } else {
    throw jsonError(path, `expected an integer (${s}), got ${describe(v)}`);
  }
  const [lo, hi] =
    s === "int32" ? [BigInt(INT32_MIN), BigInt(INT32_MAX)] : s === "uint32" ? [0n, BigInt(UINT32_MAX)] : s === "int64" ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
  if (big < lo || big > hi) throw jsonError(path, `${typeof v === "string" ? JSON.stringify(v) : v} is out of the ${s} range`);
  return s === "int32" || s === "uint32" ? Number(big) : big;
}

function scalarFromJson(kind: Kind, v: unknown, path: string): unknown {
  if (kind.k === "message") return messageFromJson(kind.m, v, path);
  if (kind.k === "enum") {
    if (typeof v === "string") {
      if (!kind.e.byName.has(v)) throw jsonError(path, `${JSON.stringify(v)} is not a value of ${kind.e.name} (${[...kind.e.byName.keys()].join(", ")})`);
      return v;
    }
    if (typeof v === "number" && Number.isInteger(v)) {
      const name = kind.e.byNumber.get(v);
      if (name === undefined) throw jsonError(path, `${v} is not a number of ${kind.e.name}`);
      return name;
    }
    throw jsonError(path, `expected a ${kind.e.name} name, got ${describe(v)}`);
  }
  switch (kind.s) {
    case "string":
      if (typeof v !== "string") throw jsonError(path, `expected a string, got ${describe(v)}`);
      if (LONE_SURROGATE.test(v)) throw jsonError(path, "the string contains a lone surrogate");
      return v;
    case "bytes": {
      if (typeof v !== "string" || !BASE64.test(v) || v.replace(/=+$/, "").length % 4 === 1) {
        throw jsonError(path, `expected base64 bytes, got ${describe(v)}`);
      }
      return new Uint8Array(Buffer.from(v.replace(/-/g, "+").replace(/_/g, "/"), "base64"));
    }
    case "bool":
      if (typeof v !== "boolean") throw jsonError(path, `expected true or false, got ${describe(v)}`);
      return v;
    case "int32":
    case "uint32":
    case "int64":
    case "uint64":
      return jsonInteger(kind.s, v, path);
    case "double":
    case "float": {
      let n: number;
      if (typeof v === "number") n = v;
      else if (v === "NaN") n = NaN;
      else if (v === "Infinity") n = Infinity;
      else if (v === "-Infinity") n = -Infinity;
      else if (typeof v === "string" && FLOAT_TEXT.test(v)) n = Number(v);
      else throw jsonError(path, `expected a number, got ${describe(v)}`);
      if (kind.s === "float" && Number.isFinite(n) && !Number.isFinite(Math.fround(n))) throw jsonError(path, `${v} is out of the float range`);
      return n;
    }
  }
}

function messageFromJson(m: CompiledMessage, json: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(json)) {
    throw path ? jsonError(path, `expected a JSON object (${m.name}), got ${describe(json)}`) : new CodecError("", `${m.name}: expected a JSON object, got ${describe(json)}`);
  }
  const given = new Map<CompiledField, unknown>();
  for (const key of Object.keys(json)) {
    const f = m.byJsonKey.get(key);
    const p = path ? `${path}.${key}` : key;
    if (!f) throw jsonError(p, `${m.name} has no such field`);
    if (given.has(f)) throw jsonError(p, `given twice (as ${JSON.stringify(f.name)} and ${JSON.stringify(f.json)})`);
    given.set(f, json[key]);
  }
  const out: Record<string, unknown> = {};
  for (const f of m.fields) {
    const v = given.get(f);
    const p = path ? `${path}.${f.name}` : f.name;
    if (f.map) {
      const o: Record<string, unknown> = {};
      if (v !== undefined && v !== null) {
        if (!isPlainObject(v)) throw jsonError(p, `expected an object (map), got ${describe(v)}`);
        for (const k of Object.keys(v)) {
          if (v[k] === null) throw jsonError(`${p}${jsonKey(k)}`, "null is not a map value");
          setProp(o, k, scalarFromJson(f.kind, v[k], `${p}${jsonKey(k)}`));
        }
      }
      out[f.ts] = o;
    } else if (f.repeated) {
      if (v === undefined || v === null) out[f.ts] = [];
      else if (!Array.isArray(v)) throw jsonError(p, `expected an array, got ${describe(v)}`);
      else
        out[f.ts] = v.map((x, i) => {
          if (x === null) throw jsonError(`${p}[${i}]`, "null is not an array element");
          return scalarFromJson(f.kind, x, `${p}[${i}]`);
        });
    } else if (v !== undefined && v !== null) {
      out[f.ts] = scalarFromJson(f.kind, v, p);
    } else if (!f.optional) {
      out[f.ts] = defaultOf(f.kind);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The compiled service.

/** The protobufjs JSON of the descriptor, under its package namespace (snake_case names). */
function rootJson(desc: ServiceDescriptor): protobuf.INamespace {
  const nested: Record<string, protobuf.AnyNestedObject> = {};
  for (const [name, msg] of Object.entries(desc.messages)) {
    const fields: Record<string, protobuf.IField & { rule?: string; keyType?: string }> = {};
    const oneofs: Record<string, protobuf.IOneOf> = {};
    for (const f of msg.fields) {
      fields[f.name] = {
        type: f.type,
        id: f.no,
        ...(f.repeated ? { rule: "repeated" } : {}),
        ...(f.map ? { keyType: "string" } : {}),
        ...(f.optional ? { options: { proto3_optional: true } } : {}),
      };
      if (f.optional) oneofs[`_${f.name}`] = { oneof: [f.name] };
    }
    nested[name] = { fields, ...(Object.keys(oneofs).length > 0 ? { oneofs } : {}) } as protobuf.IType;
  }
  for (const [name, e] of Object.entries(desc.enums)) nested[name] = { values: { ...e.values } };
  const methods: Record<string, protobuf.IMethod> = {};
  for (const m of [...Object.values(desc.commands), ...Object.values(desc.queries)]) methods[m.rpc] = { requestType: m.input, responseType: m.output, comment: "" };
  nested[desc.service] = { methods };
  let ns: protobuf.INamespace = { nested };
  for (const part of desc.package.split(".").reverse()) ns = { nested: { [part]: ns } };
  return ns;
}

/**
 * A service descriptor made ready for use: codecs for every message, table values and the
 * methods by name. Build it with compileService(); it is immutable and may be shared.
 */
export class CompiledService {
  /** `<package>.<Service>`: the gRPC service name of the typed service. */
  readonly fullName: string;
  /** protobufjs reflection of the service's schema (package namespace, snake_case fields). */
  readonly root: protobuf.Root;
  /** Commands and queries by snake_case name (what travels in the log). */
  readonly commands: ReadonlyMap<string, MethodDescriptor>;
  readonly queries: ReadonlyMap<string, MethodDescriptor>;
  /** Tables by snake_case name (the /sm/<table>/ prefix). */
  readonly tables: ReadonlyMap<string, TableDescriptor>;
  private readonly messages = new Map<string, CompiledMessage>();
  private readonly tableValues = new Map<string, CompiledField>();

  /** Use compileService(). */
  constructor(readonly descriptor: ServiceDescriptor) {
    const desc = descriptor;
    if (typeof desc.service !== "string" || !/^[A-Z][A-Za-z0-9]*$/.test(desc.service)) throw invalidDescriptor(desc, "service must be a PascalCase name");
    if (typeof desc.package !== "string" || !PACKAGE.test(desc.package)) throw invalidDescriptor(desc, `package ${JSON.stringify(desc.package)} is not a dotted lower-case name`);
    if (desc.package === "raftgen" || desc.package.startsWith("raftgen.")) throw invalidDescriptor(desc, `package ${JSON.stringify(desc.package)}: the raftgen.* namespace is the runtime's own`);
    this.fullName = `${desc.package}.${desc.service}`;

    // Enums.
    const enums = new Map<string, CompiledEnum>();
    for (const [name, e] of Object.entries(desc.enums) as [string, EnumDescriptor][]) {
      if (!IDENT.test(name) || SCALARS.has(name)) throw invalidDescriptor(desc, `bad enum name ${JSON.stringify(name)}`);
      const byName = new Map<string, number>();
      const byNumber = new Map<number, string>();
      for (const [v, n] of Object.entries(e.values)) {
        if (!IDENT.test(v) || !Number.isInteger(n) || n < INT32_MIN || n > INT32_MAX || byNumber.has(n)) {
          throw invalidDescriptor(desc, `enum ${name}: bad or repeated value ${JSON.stringify(v)} = ${n}`);
        }
        byName.set(v, n);
        byNumber.set(n, v);
      }
      const defaultName = byNumber.get(0);
      if (defaultName === undefined) throw invalidDescriptor(desc, `enum ${name} has no value numbered 0 (its default)`);
      enums.set(name, { name, byName, byNumber, defaultName });
    }

    // Messages: shells first, then resolve field types (messages may refer to each other).
    for (const [name, msg] of Object.entries(desc.messages) as [string, MessageDescriptor][]) {
      if (!IDENT.test(name) || SCALARS.has(name) || enums.has(name)) throw invalidDescriptor(desc, `bad or repeated message name ${JSON.stringify(name)}`);
      const seen = { names: new Set<string>(), ts: new Set<string>(), nos: new Set<number>() };
      const fields: CompiledField[] = [];
      for (const f of msg.fields) {
        checkFieldShape(desc, name, f, seen);
        fields.push({ name: f.name, ts: f.ts, json: jsonName(f.name), no: f.no, optional: !!f.optional, repeated: !!f.repeated, map: !!f.map, kind: { k: "scalar", s: "string" } });
      }
      fields.sort((a, b) => a.no - b.no);
      const byJsonKey = new Map<string, CompiledField>();
      for (const f of fields) {
        byJsonKey.set(f.json, f);
        byJsonKey.set(f.name, f);
      }
      this.messages.set(name, { name, fields, byNumber: new Map(fields.map((f) => [f.no, f])), byJsonKey });
    }
    const resolve = (type: string, where: string): Kind => {
      if (SCALARS.has(type)) return { k: "scalar", s: type as ScalarName };
      const e = enums.get(type);
      if (e) return { k: "enum", e };
      const m = this.messages.get(type);
      if (m) return { k: "message", m };
      throw invalidDescriptor(desc, `${where}: unknown type ${JSON.stringify(type)}`);
    };
    for (const [name, msg] of Object.entries(desc.messages)) {
      const compiled = this.messages.get(name)!;
      for (const f of msg.fields) compiled.byNumber.get(f.no)!.kind = resolve(f.type, `message ${name} field ${f.name}`);
    }
    this.checkRequiredCycles();

    // Tables, commands and queries.
    const tables = new Map<string, TableDescriptor>();
    const tableTs = new Set<string>();
    for (const [name, t] of Object.entries(desc.tables)) {
      if (!/^[a-z][a-z0-9_]*$/.test(name) || name.length > 128) throw invalidDescriptor(desc, `bad table name ${JSON.stringify(name)}`);
      if (!KEY_TYPES.has(t.key)) throw invalidDescriptor(desc, `table ${name}: key type ${JSON.stringify(t.key)} is not string, uint64, int64 or uint32`);
      if (!IDENT.test(t.ts) || t.ts in Object.prototype || tableTs.has(t.ts)) throw invalidDescriptor(desc, `table ${name}: bad or repeated ts name ${JSON.stringify(t.ts)}`);
      tableTs.add(t.ts);
      const kind = resolve(t.value, `table ${name}`);
      this.tableValues.set(name, { name: "value", ts: "value", json: "value", no: 1, optional: false, repeated: false, map: false, kind });
      tables.set(name, t);
    }
    this.tables = tables;
    const rpcs = new Set<string>();
    const methods = (kind: "command" | "query", record: Readonly<Record<string, MethodDescriptor>>) => {
      const out = new Map<string, MethodDescriptor>();
      const tsNames = new Set<string>();
      for (const [name, m] of Object.entries(record)) {
        const where = `${kind} ${name}`;
        if (!/^[a-z][a-z0-9_]*$/.test(name)) throw invalidDescriptor(desc, `bad ${kind} name ${JSON.stringify(name)}`);
        if (!IDENT.test(m.ts) || m.ts in Object.prototype || tsNames.has(m.ts)) throw invalidDescriptor(desc, `${where}: bad or repeated ts name ${JSON.stringify(m.ts)}`);
        if (!/^[A-Z][A-Za-z0-9]*$/.test(m.rpc) || rpcs.has(m.rpc)) throw invalidDescriptor(desc, `${where}: bad or repeated rpc name ${JSON.stringify(m.rpc)}`);
        if (!this.messages.has(m.input) || !this.messages.has(m.output)) throw invalidDescriptor(desc, `${where}: input and output must be messages of the descriptor`);
        if (m.consistency !== undefined && (kind === "command" || !CONSISTENCIES.has(m.consistency))) throw invalidDescriptor(desc, `${where}: bad consistency ${JSON.stringify(m.consistency)}`);
        tsNames.add(m.ts);
        rpcs.add(m.rpc);
        out.set(name, m);
      }
      return out;
    };
    this.commands = methods("command", desc.commands);
    this.queries = methods("query", desc.queries);
    for (const name of this.commands.keys()) if (this.queries.has(name)) throw invalidDescriptor(desc, `${JSON.stringify(name)} is both a command and a query`);

    this.root = protobuf.Root.fromJSON(rootJson(desc));
    this.root.resolveAll();
  }

  /**
   * A non-optional, non-repeated message field always holds an object, so a cycle of them
   * (A.b: B, B.a: A) would make the default value infinite: refuse it (one of them must be
   * optional, repeated or a map).
   */
  private checkRequiredCycles(): void {
    const state = new Map<CompiledMessage, "visiting" | "done">();
    const visit = (m: CompiledMessage, trail: string[]): void => {
      const s = state.get(m);
      if (s === "done") return;
      if (s === "visiting") {
        throw invalidDescriptor(this.descriptor, `the message fields ${trail.join(" -> ")} form a cycle of non-optional messages (make one optional)`);
      }
      state.set(m, "visiting");
      for (const f of m.fields) {
        if (f.kind.k === "message" && !f.optional && !f.repeated && !f.map) visit(f.kind.m, [...trail, `${m.name}.${f.name}`]);
      }
      state.set(m, "done");
    };
    for (const m of this.messages.values()) visit(m, []);
  }

  private message(name: string): CompiledMessage {
    const m = this.messages.get(name);
    if (!m) throw new Error(`service ${this.descriptor.service} has no message ${JSON.stringify(name)}`);
    return m;
  }

  private tableValue(table: string): CompiledField {
    const f = this.tableValues.get(table);
    if (!f) throw new Error(`service ${this.descriptor.service} has no table ${JSON.stringify(table)}`);
    return f;
  }

  /** The protobufjs Type of a message (reflection for tools; the codec does not use it). */
  type(message: string): protobuf.Type {
    this.message(message);
    return this.root.lookupType(`${this.descriptor.package}.${message}`);
  }

  /** Encode a TypeScript value of `message`; throws CodecError naming the field at fault. */
  encode(message: string, value: unknown): Uint8Array {
    const m = this.message(message);
    if (!isPlainObject(value)) throw expected(message, `a ${message} object`, value);
    const w = protobuf.Writer.create();
    encodeFields(w, m, value, message);
    return w.finish();
  }

  /** Decode bytes of `message` into its TypeScript value; throws CodecError. */
  decode<T = Record<string, unknown>>(message: string, bytes: Uint8Array): T {
    const m = this.message(message);
    return decodeWith(bytes, message, (r) => {
      const raw: Raw = new Map();
      decodeInto(r, m, raw, bytes.length, message, 0);
      return finish(m, raw) as T;
    });
  }

  /** A table's stored value: a message as is, a scalar or enum in a field-1 wrapper. */
  encodeTableValue(table: string, value: unknown): Uint8Array {
    const f = this.tableValue(table);
    const w = protobuf.Writer.create();
    if (f.kind.k === "message") {
      const checked = checkValue(f.kind, value, `table ${table} value`);
      encodeFields(w, f.kind.m, checked as Record<string, unknown>, `table ${table} value`);
    } else {
      encodeField(w, f, value, `table ${table} value`);
    }
    return w.finish();
  }

  decodeTableValue<T = unknown>(table: string, bytes: Uint8Array): T {
    const f = this.tableValue(table);
    const path = `table ${table} value`;
    return decodeWith(bytes, path, (r) => {
      if (f.kind.k === "message") {
        const raw: Raw = new Map();
        decodeInto(r, f.kind.m, raw, bytes.length, path, 0);
        return finish(f.kind.m, raw) as T;
      }
      const wrapper: CompiledMessage = { name: path, fields: [f], byNumber: new Map([[1, f]]), byJsonKey: new Map() };
      const raw: Raw = new Map();
      decodeInto(r, wrapper, raw, bytes.length, path, 0);
      return finish(wrapper, raw).value as T;
    });
  }

  /** The proto3 JSON form of a TypeScript value of `message` (validated like encode). */
  toJson(message: string, value: unknown): { [key: string]: JsonValue } {
    const m = this.message(message);
    if (!isPlainObject(value)) throw expected(message, `a ${message} object`, value);
    return messageToJson(m, value, message);
  }

  /** The TypeScript value of `message` from its proto3 JSON form; throws CodecError. */
  fromJson<T = Record<string, unknown>>(message: string, json: unknown): T {
    return messageFromJson(this.message(message), json, "") as T;
  }
}

function decodeWith<T>(bytes: Uint8Array, path: string, run: (r: protobuf.Reader) => T): T {
  if (!(bytes instanceof Uint8Array)) throw expected(path, "bytes (a Uint8Array)", bytes);
  try {
    return run(protobuf.Reader.create(bytes));
  } catch (err) {
    if (err instanceof CodecError) throw err;
    // protobufjs's own errors: a truncated varint, a bad wire type to skip, ...
    throw new CodecError(path, `${path}: malformed: ${(err as Error).message}`);
  }
}

/** Check a descriptor and build its codecs. Throws an Error naming the problem if it is invalid. */
export function compileService(desc: ServiceDescriptor): CompiledService {
  return new CompiledService(desc);
}
