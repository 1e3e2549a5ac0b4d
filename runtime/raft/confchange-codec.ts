// A hand-written protobuf codec for eraftpb.ConfChange, and for nothing else.
//
// RawNode.proposeConfChange puts an encoded ConfChange into the data of an EntryConfChange
// entry, and applying that entry decodes it again, so the core needs these bytes. But the core
// must stay pure (STYLE 7.2): it may not import protobufjs, `node:*`, Buffer or anything outside
// runtime/raft. ConfChange is small enough to encode by hand: three varint fields and one bytes
// field. The output is canonical proto3 (fields in number order, defaults omitted) and must stay
// byte-identical to runtime/codec/eraftpb.ts's encodeConfChange; a test checks it.
//
// Fields (proto/eraftpb.proto): id = 1 (uint64, unused, always written as 0, i.e. omitted),
// change_type = 2 (ConfChangeType), node_id = 3 (uint64), context = 4 (bytes). Varints are
// computed with plain numbers, which is exact because every value is checked to be a safe
// integer. Decoding skips unknown fields, as protobuf requires, and throws
// RaftError("InvalidConfig") for anything malformed: a ConfChange comes out of the replicated
// log, so bad bytes there mean a buggy or foreign proposer, never a reason to misread a
// membership change.

import { RaftError } from "./errors.js";
import { ConfChangeType, EMPTY_BYTES, type ConfChange } from "./types.js";

/** Wire types used by ConfChange's fields. */
const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_START_GROUP = 3;
const WIRE_END_GROUP = 4;
const WIRE_FIXED32 = 5;

/** Keys (field number << 3 | wire type) of the fields this codec writes. */
const KEY_CHANGE_TYPE = (2 << 3) | WIRE_VARINT;
const KEY_NODE_ID = (3 << 3) | WIRE_VARINT;
const KEY_CONTEXT = (4 << 3) | WIRE_LEN;

/** Deepest group nesting skipped before giving up (guards the recursion). */
const MAX_GROUP_DEPTH = 32;

function invalid(detail: string): RaftError {
  return new RaftError("InvalidConfig", `ConfChange: ${detail}`);
}

function isConfChangeType(t: number): t is ConfChangeType {
  return t === ConfChangeType.AddNode || t === ConfChangeType.RemoveNode || t === ConfChangeType.AddLearnerNode;
}

/** Number of bytes of the varint encoding of a non-negative safe integer. */
function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/**
 * Writes `v` (a non-negative safe integer) as a varint at `pos`; returns the position after it.
 * Plain arithmetic (`%`, Math.floor) rather than bit operations, which stop at 32 bits.
 */
function putVarint(out: Uint8Array, pos: number, v: number): number {
  while (v >= 128) {
    out[pos++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  out[pos++] = v;
  return pos;
}

/**
 * Encodes `cc` as eraftpb.ConfChange bytes (id 0). Throws RaftError("InvalidConfig") for an
 * unknown change type or a node id that is not a non-negative safe integer.
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  if (!isConfChangeType(cc.type)) throw invalid(`unknown change type ${cc.type}`);
  if (!Number.isSafeInteger(cc.nodeId) || cc.nodeId < 0) {
    throw invalid(`node id ${cc.nodeId} is not a non-negative safe integer`);
  }
  // Proto3 omits default values: type AddNode (0), node id 0, empty context.
  let size = 0;
  if (cc.type !== 0) size += 1 + varintSize(cc.type);
  if (cc.nodeId !== 0) size += 1 + varintSize(cc.nodeId);
  if (cc.context.length > 0) size += 1 + varintSize(cc.context.length) + cc.context.length;

  const out = new Uint8Array(size);
  let pos = 0;
  if (cc.type !== 0) {
    out[pos++] = KEY_CHANGE_TYPE;
    pos = putVarint(out, pos, cc.type);
  }
  if (cc.nodeId !== 0) {
    out[pos++] = KEY_NODE_ID;
    pos = putVarint(out, pos, cc.nodeId);
  }
  if (cc.context.length > 0) {
    out[pos++] = KEY_CONTEXT;
    pos = putVarint(out, pos, cc.context.length);
    out.set(cc.context, pos);
  }
  return out;
}

/** A read position over the input; `pos` advances as fields are consumed. */
interface Cursor {
  readonly data: Uint8Array;
  pos: number;
}

/**
 * Reads a varint and returns it if it is a safe integer. Larger values (up to the 10 bytes a
 * uint64 may take) throw: the core cannot represent them, and a node id above 2^53 must never be
 * rounded into a different node's id.
 */
function getVarint(c: Cursor, what: string): number {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (c.pos >= c.data.length) throw invalid(`truncated ${what}`);
    const b = c.data[c.pos++]!;
    // Exact while value < 2^53; once it passes, it stays >= 2^53 (float rounding is monotone),
    // so the check below still catches it.
    value += (b & 0x7f) * scale;
    if (b < 0x80) {
      if (value > Number.MAX_SAFE_INTEGER) throw invalid(`${what} is above Number.MAX_SAFE_INTEGER`);
      return value;
    }
    scale *= 128;
  }
  throw invalid(`${what} is a varint longer than 10 bytes`);
}

/** Reads a length prefix and checks that that many bytes remain. */
function getLength(c: Cursor, what: string): number {
  const n = getVarint(c, `length of ${what}`);
  if (n > c.data.length - c.pos) throw invalid(`truncated ${what}`);
  return n;
}

/** Skips one field of wire type `wireType` (an unknown field); `field` is its number. */
function skipField(c: Cursor, field: number, wireType: number, depth: number): void {
  const what = `unknown field ${field}`;
  switch (wireType) {
    case WIRE_VARINT:
      // Any 64-bit value will do, its value is discarded; but it must fit in 64 bits (the
      // tenth byte may only carry bit 63).
      for (let i = 0; ; i++) {
        if (c.pos >= c.data.length) throw invalid(`truncated ${what}`);
        const b = c.data[c.pos++]!;
        if (i === 9 && b > 1) throw invalid(`${what} is a varint that overflows 64 bits`);
        if (b < 0x80) return;
      }
    case WIRE_FIXED64:
    case WIRE_FIXED32: {
      const n = wireType === WIRE_FIXED64 ? 8 : 4;
      if (n > c.data.length - c.pos) throw invalid(`truncated ${what}`);
      c.pos += n;
      return;
    }
    case WIRE_LEN: {
      // (Not `c.pos += getLength(...)`: that would add to the position before the length.)
      const n = getLength(c, what);
      c.pos += n;
      return;
    }
    case WIRE_START_GROUP:
      // A (deprecated) group: fields up to the matching end-group key.
      if (depth >= MAX_GROUP_DEPTH) throw invalid(`groups nested deeper than ${MAX_GROUP_DEPTH}`);
      for (;;) {
        const [inner, innerWire] = getKey(c);
        if (innerWire === WIRE_END_GROUP) {
          if (inner !== field) throw invalid(`group ${field} closed by end-group ${inner}`);
          return;
        }
        skipField(c, inner, innerWire, depth + 1);
      }
    default:
      throw invalid(`${what} has invalid wire type ${wireType}`);
  }
}

/** Reads a field key; returns [field number, wire type]. */
function getKey(c: Cursor): [number, number] {
  const key = getVarint(c, "field key");
  const field = Math.floor(key / 8);
  // Field numbers are 1 .. 2^29 - 1.
  if (field === 0 || field >= 2 ** 29) throw invalid(`invalid field number ${field}`);
  return [field, key % 8];
}

/**
 * Decodes eraftpb.ConfChange bytes. `id` is read (and must be a safe integer) but dropped;
 * unknown fields are skipped. Throws RaftError("InvalidConfig") for truncated or malformed
 * bytes, a wrong wire type on a known field, an unknown change type, or a value above
 * Number.MAX_SAFE_INTEGER.
 */
export function decodeConfChange(data: Uint8Array): ConfChange {
  const c: Cursor = { data, pos: 0 };
  let type: ConfChangeType = ConfChangeType.AddNode;
  let nodeId = 0;
  let context = EMPTY_BYTES;
  while (c.pos < data.length) {
    const [field, wireType] = getKey(c);
    const expected = field === 4 ? WIRE_LEN : field <= 3 ? WIRE_VARINT : -1;
    if (expected === -1) {
      if (wireType === WIRE_END_GROUP) throw invalid(`end-group key ${field} outside a group`);
      skipField(c, field, wireType, 0);
      continue;
    }
    if (wireType !== expected) throw invalid(`field ${field} has wire type ${wireType}, expected ${expected}`);
    switch (field) {
      case 1:
        getVarint(c, "id");
        break;
      case 2: {
        const t = getVarint(c, "change_type");
        if (!isConfChangeType(t)) throw invalid(`unknown change type ${t}`);
        type = t;
        break;
      }
      case 3:
        nodeId = getVarint(c, "node_id");
        break;
      case 4: {
        const n = getLength(c, "context");
        // A copy, never a view: the entry's data may be reused by its owner.
        // (new + set rather than slice: slice on a Buffer would return a Buffer.)
        if (n > 0) {
          context = new Uint8Array(n);
          context.set(data.subarray(c.pos, c.pos + n));
        }
        c.pos += n;
        break;
      }
    }
  }
  return { type, nodeId, context };
}
