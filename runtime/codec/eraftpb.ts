// The eraftpb codec: the one place where the Raft core's plain types (runtime/raft/types.ts)
// become protobuf bytes and back. runtime/transport uses it for every peer message and
// runtime/storage for every entry, hard state, conf state and snapshot record.
//
// It is also the gateway where untrusted bytes are validated (STYLE 7.6: validate once, at the
// edge). A decoded value is safe for the core to trust: every 64-bit field is a safe integer,
// every enum is one types.ts knows, every byte field is a plain Uint8Array that aliases nothing
// the caller holds (see Cursor), ConfState ids are sorted and unique, and the configuration is
// not joint (joint consensus is a later goal). Anything else throws a CodecError naming the
// field, for example `Message.entries[3].term: 9007199254740992 is above
// Number.MAX_SAFE_INTEGER`.
//
// The schema is proto/eraftpb.proto (raft-rs's field numbers and enum numbering), parsed once at
// module load with protobufjs. The encode and decode functions below walk the fields directly
// (on protobufjs's Writer, and on its Reader used as a cursor) instead of going through
// reflection (`Type.decode` and `toObject`): the Ready loop calls them for every message and
// entry, the direct walk avoids an intermediate object per message and a Long per 64-bit field,
// and it can check wire types, which protobufjs's generated decoders do not. At load, `checkSchema` verifies that the parsed schema has exactly
// the fields, numbers and types these walkers assume, and that its enums match types.ts, so the
// .proto and this file cannot drift apart silently. The tests also cross-check the walkers
// against protobufjs's reflection encoder and decoder.
//
// Encoding is canonical proto3: fields are written in field-number order and default values
// (0, false, empty bytes, empty lists) are omitted, as raft-rs (prost) does. This matters for
// ConfChange, whose bytes runtime/raft/confchange-codec.ts must reproduce exactly.

import protobuf from "protobufjs";
import { findProtoFile, loadProtoRoot } from "./proto-files.js";
import {
  ConfChangeType,
  EMPTY_BYTES,
  EntryType,
  MessageType,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
} from "../raft/types.js";

// ---------------------------------------------------------------------------------------------
// Errors

/** Why a value could not be decoded or encoded. */
export type CodecErrorCode =
  /** The bytes are not a valid encoding: truncated, a wrong wire type, a bad varint or length. */
  | "Malformed"
  /** A 64-bit field holds a value above Number.MAX_SAFE_INTEGER (or a negative/fractional number was given to encode). */
  | "OutOfRange"
  /** An enum field holds a value this version does not know. */
  | "UnknownEnum"
  /** Valid eraftpb that the core cannot represent yet (a joint-consensus ConfState). */
  | "Unsupported";

/**
 * Bad input at the codec gateway. `path` names the field, from the top-level message down
 * (`Message.entries[3].term`); the message reads `<path>: <detail>`. The transport turns it into
 * INVALID_ARGUMENT and the storage into a clear start-up failure; the node never crashes on it.
 */
export class CodecError extends Error {
  override readonly name = "CodecError";
  constructor(
    readonly code: CodecErrorCode,
    /** Dotted field path from the top-level message, e.g. `Message.snapshot.metadata.index`. */
    readonly path: string,
    /** The message without the path. */
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(path === "" ? detail : `${path}: ${detail}`, options);
  }
}

/** Whether `err` is a CodecError (with the given code). */
export function isCodecError(err: unknown, code?: CodecErrorCode): err is CodecError {
  return err instanceof CodecError && (code === undefined || err.code === code);
}

/**
 * Re-throws `err` with `segment` prepended to its path. Nested walkers report paths relative to
 * their own message and their callers prefix them here, so no path string is built unless
 * something actually fails.
 */
function rethrowWithin(err: unknown, segment: string): never {
  if (err instanceof CodecError && segment !== "") {
    const path = err.path === "" ? segment : `${segment}.${err.path}`;
    throw new CodecError(err.code, path, err.detail, { cause: err.cause });
  }
  throw err;
}

// ---------------------------------------------------------------------------------------------
// Schema: loaded once, checked against what the walkers below assume.

/** Path of the .proto file the schema was loaded from. */
export const ERAFTPB_PROTO_PATH: string = findProtoFile("eraftpb.proto");

/**
 * The parsed eraftpb schema (field names as written in the .proto, snake_case). Exported for
 * tests and tools (for example to read the MessageType enum); the codec itself only uses it to
 * check its walkers at load.
 */
export const eraftpbRoot: protobuf.Root = loadProtoRoot("eraftpb.proto");

/** A field as the walkers encode and decode it: [field number, protobuf type, repeated]. */
type WalkedField = readonly [id: number, type: string, repeated: boolean];

/**
 * Every field of every message, as the walkers below handle it. checkSchema requires the parsed
 * .proto to match this table exactly, in both directions.
 */
const WALKED_SCHEMA: Readonly<Record<string, Readonly<Record<string, WalkedField>>>> = {
  Entry: {
    entry_type: [1, "EntryType", false],
    term: [2, "uint64", false],
    index: [3, "uint64", false],
    data: [4, "bytes", false],
    sync_log: [5, "bool", false],
    context: [6, "bytes", false],
  },
  SnapshotMetadata: {
    conf_state: [1, "ConfState", false],
    index: [2, "uint64", false],
    term: [3, "uint64", false],
  },
  Snapshot: {
    data: [1, "bytes", false],
    metadata: [2, "SnapshotMetadata", false],
  },
  Message: {
    msg_type: [1, "MessageType", false],
    to: [2, "uint64", false],
    from: [3, "uint64", false],
    term: [4, "uint64", false],
    log_term: [5, "uint64", false],
    index: [6, "uint64", false],
    entries: [7, "Entry", true],
    commit: [8, "uint64", false],
    snapshot: [9, "Snapshot", false],
    reject: [10, "bool", false],
    reject_hint: [11, "uint64", false],
    context: [12, "bytes", false],
    request_snapshot: [13, "uint64", false],
    deprecated_priority: [14, "uint64", false],
    commit_term: [15, "uint64", false],
    priority: [16, "int64", false],
  },
  HardState: {
    term: [1, "uint64", false],
    vote: [2, "uint64", false],
    commit: [3, "uint64", false],
  },
  ConfState: {
    voters: [1, "uint64", true],
    learners: [2, "uint64", true],
    voters_outgoing: [3, "uint64", true],
    learners_next: [4, "uint64", true],
    auto_leave: [5, "bool", false],
  },
  ConfChange: {
    id: [1, "uint64", false],
    change_type: [2, "ConfChangeType", false],
    node_id: [3, "uint64", false],
    context: [4, "bytes", false],
  },
};

/** The enums whose numbering types.ts fixes; the .proto must agree name for name. */
const CORE_ENUMS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  EntryType,
  MessageType,
  ConfChangeType,
};

/**
 * Throws (a plain Error: this is a broken build, not bad input) when the loaded .proto differs
 * from WALKED_SCHEMA or from types.ts's enums.
 */
function checkSchema(root: protobuf.Root): void {
  const problems: string[] = [];
  for (const [typeName, fields] of Object.entries(WALKED_SCHEMA)) {
    const type = root.lookupType(`eraftpb.${typeName}`);
    for (const [fieldName, [id, fieldType, repeated]] of Object.entries(fields)) {
      const f = type.fields[fieldName];
      if (f === undefined) {
        problems.push(`${typeName}.${fieldName} is missing`);
      } else if (f.id !== id || f.type !== fieldType || f.repeated !== repeated) {
        problems.push(
          `${typeName}.${fieldName} is ${f.repeated ? "repeated " : ""}${f.type} = ${f.id}, ` +
            `the codec expects ${repeated ? "repeated " : ""}${fieldType} = ${id}`,
        );
      }
    }
    for (const fieldName of Object.keys(type.fields)) {
      if (!(fieldName in fields)) problems.push(`${typeName}.${fieldName} is not handled by the codec`);
    }
  }
  for (const [enumName, values] of Object.entries(CORE_ENUMS)) {
    const protoValues = root.lookupEnum(`eraftpb.${enumName}`).values;
    const a = JSON.stringify(Object.entries(protoValues).sort());
    const b = JSON.stringify(Object.entries(values).sort());
    if (a !== b) problems.push(`enum ${enumName} in the .proto is ${a}, types.ts has ${b}`);
  }
  if (problems.length > 0) {
    throw new Error(`eraftpb codec: ${ERAFTPB_PROTO_PATH} does not match the codec:\n  ${problems.join("\n  ")}`);
  }
}

checkSchema(eraftpbRoot);

/** `KNOWN[v] === true` when v is a value of the enum. Dense arrays: a lookup per enum field. */
function knownValues(values: Readonly<Record<string, number>>): readonly boolean[] {
  const known: boolean[] = [];
  for (const v of Object.values(values)) known[v] = true;
  return known;
}
const KNOWN_ENTRY_TYPES = knownValues(EntryType);
const KNOWN_MESSAGE_TYPES = knownValues(MessageType);
const KNOWN_CONF_CHANGE_TYPES = knownValues(ConfChangeType);

/** Field names by number, for error paths when a known field comes with the wrong wire type. */
function namesByNumber(typeName: string): readonly string[] {
  const names: string[] = [];
  for (const [name, [id]] of Object.entries(WALKED_SCHEMA[typeName]!)) names[id] = name;
  return names;
}
const ENTRY_FIELDS = namesByNumber("Entry");
const SNAPSHOT_METADATA_FIELDS = namesByNumber("SnapshotMetadata");
const SNAPSHOT_FIELDS = namesByNumber("Snapshot");
const MESSAGE_FIELDS = namesByNumber("Message");
const HARD_STATE_FIELDS = namesByNumber("HardState");
const CONF_STATE_FIELDS = namesByNumber("ConfState");
const CONF_CHANGE_FIELDS = namesByNumber("ConfChange");

// ---------------------------------------------------------------------------------------------
// Decoding primitives on a protobufjs Reader, used as the cursor (buf, pos, len). The varint,
// length and skip primitives are our own: protobufjs's are lenient where a gateway must not be
// (uint32() silently drops the high bits of a long varint, skipType() accepts any varint length,
// generated decoders ignore wire types). Walkers read until `r.len`, which readEmbedded narrows
// to the end of a nested message, so no read ever crosses a message boundary.

const { Writer } = protobuf;
type Writer = protobuf.Writer;

/**
 * The cursor of one decode call: a protobufjs Reader over the input, plus `copy`, a private copy
 * of the whole input made when the first non-empty bytes field is read. Every decoded bytes
 * field is a view into that copy: it aliases nothing the caller holds (the caller may reuse or
 * overwrite its buffer), yet a MsgAppend with 64 entries costs one large allocation instead of
 * 128. V8 allocates a typed array over 64 bytes outside the heap, at roughly 0.8 µs each, which
 * made per-field copies three times slower than this. The price: fields of one decoded value
 * share an ArrayBuffer (use byteOffset/byteLength, not `.buffer` alone), and a retained entry
 * keeps its whole message's copy alive.
 */
class Cursor extends protobuf.Reader {
  copy: Uint8Array | undefined = undefined;
}

/** Wire types (protobuf encoding spec). */
const VARINT = 0;
const FIXED64 = 1;
const LEN = 2;
const START_GROUP = 3;
const END_GROUP = 4;
const FIXED32 = 5;

const TWO_POW_32 = 4294967296;
/** Largest high word of a safe integer: 2^53 - 1 = 0x1FFFFF * 2^32 + 0xFFFFFFFF. */
const MAX_SAFE_HI = 0x1fffff;

// Scratch registers: the low and high 32 bits (unsigned) of the last varint readVarint64 read.
// Module-level so that reading a 64-bit value allocates nothing (no Long, no LongBits).
let varLo = 0;
let varHi = 0;

function truncated(field: string): CodecError {
  return new CodecError("Malformed", field, "truncated: the bytes end inside this field");
}

/** Reads a varint of up to 10 bytes (64 bits) losslessly into varLo/varHi. */
function readVarint64(r: Cursor, field: string): void {
  const buf = r.buf;
  const len = r.len;
  let pos = r.pos;
  let b = 0;
  let lo = 0;
  // Bytes 1-4 carry bits 0-27.
  for (let shift = 0; shift < 28; shift += 7) {
    if (pos >= len) throw truncated(field);
    b = buf[pos++]!;
    lo |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = pos;
      varLo = lo >>> 0;
      varHi = 0;
      return;
    }
  }
  // Byte 5 carries bits 28-34: four go to the low word, three to the high word.
  if (pos >= len) throw truncated(field);
  b = buf[pos++]!;
  lo |= (b & 0x7f) << 28;
  let hi = (b & 0x7f) >>> 4;
  if (b < 0x80) {
    r.pos = pos;
    varLo = lo >>> 0;
    varHi = hi;
    return;
  }
  // Bytes 6-10 carry bits 35-63; the tenth byte may only contribute bit 63.
  for (let shift = 3; shift < 32; shift += 7) {
    if (pos >= len) throw truncated(field);
    b = buf[pos++]!;
    if (shift === 31 && b > 1) throw new CodecError("Malformed", field, "varint overflows 64 bits");
    hi |= (b & 0x7f) << shift;
    if (b < 0x80) {
      r.pos = pos;
      varLo = lo >>> 0;
      varHi = hi >>> 0;
      return;
    }
  }
  /* c8 ignore next */
  throw new CodecError("Malformed", field, "varint longer than 10 bytes");
}

/** The last varint as an unsigned decimal string, for error messages. */
function varintString(): string {
  return ((BigInt(varHi) << 32n) | BigInt(varLo)).toString();
}

/** Reads a uint64 and checks that it is a safe integer. */
function readUint(r: Cursor, field: string): number {
  const pos = r.pos;
  // Fast path: most values (types, small terms and ids) fit in one byte.
  if (pos < r.len) {
    const b = r.buf[pos]!;
    if (b < 0x80) {
      r.pos = pos + 1;
      return b;
    }
  }
  readVarint64(r, field);
  if (varHi > MAX_SAFE_HI) {
    throw new CodecError("OutOfRange", field, `${varintString()} is above Number.MAX_SAFE_INTEGER`);
  }
  return varHi * TWO_POW_32 + varLo;
}

/** Reads an int64 (two's complement varint) and checks that it is within ±MAX_SAFE_INTEGER. */
function readInt(r: Cursor, field: string): number {
  readVarint64(r, field);
  if ((varHi & 0x80000000) === 0) {
    if (varHi > MAX_SAFE_HI) {
      throw new CodecError("OutOfRange", field, `${varintString()} is above Number.MAX_SAFE_INTEGER`);
    }
    return varHi * TWO_POW_32 + varLo;
  }
  // Negative: the magnitude is the two's complement of the 64 bits.
  const magLo = (~varLo + 1) >>> 0;
  const magHi = (~varHi + (varLo === 0 ? 1 : 0)) >>> 0;
  if (magHi > MAX_SAFE_HI) {
    const value = BigInt.asIntN(64, (BigInt(varHi) << 32n) | BigInt(varLo));
    throw new CodecError("OutOfRange", field, `${value} is below -Number.MAX_SAFE_INTEGER`);
  }
  return -(magHi * TWO_POW_32 + magLo);
}

/** Reads an enum value and checks it against `known`. */
function readEnum(r: Cursor, field: string, known: readonly boolean[], enumName: string): number {
  readVarint64(r, field);
  if (varHi !== 0 || known[varLo] !== true) {
    // Enums are int32 on the wire, so a negative value arrives sign-extended to 64 bits.
    const shown = varHi === 0xffffffff && varLo >= 0x80000000 ? varLo | 0 : varintString();
    throw new CodecError("UnknownEnum", field, `${shown} is not a known ${enumName}`);
  }
  return varLo;
}

function readBool(r: Cursor, field: string): boolean {
  readVarint64(r, field);
  return (varLo | varHi) !== 0;
}

/**
 * Reads a field key and returns it as `field number << 3 | wire type` (an unsigned 32-bit
 * number). Rejects field number 0 and keys wider than 32 bits.
 */
function readTag(r: Cursor, typeName: string): number {
  const pos = r.pos;
  let tag: number;
  if (pos < r.len && r.buf[pos]! < 0x80) {
    tag = r.buf[pos]!;
    r.pos = pos + 1;
  } else {
    readVarint64(r, "");
    if (varHi !== 0) throw new CodecError("Malformed", "", `field key ${varintString()} overflows 32 bits`);
    tag = varLo;
  }
  if (tag >>> 3 === 0) {
    throw new CodecError("Malformed", "", `field number 0 at offset ${pos} (not a valid ${typeName})`);
  }
  return tag;
}

/** Reads a length prefix and checks that that many bytes remain. */
function readLength(r: Cursor, field: string): number {
  const n = readUint(r, field);
  if (n > r.len - r.pos) throw truncated(field);
  return n;
}

/** Reads a bytes field: a plain Uint8Array view into the cursor's private copy of the input. */
function readBytes(r: Cursor, field: string): Uint8Array {
  const n = readLength(r, field);
  if (n === 0) return EMPTY_BYTES;
  const start = r.pos;
  r.pos = start + n;
  // `new Uint8Array(typedArray)` copies, and is a plain Uint8Array even when the input is a Buffer.
  const copy = r.copy ?? (r.copy = new Uint8Array(r.buf));
  return copy.subarray(start, start + n);
}

/**
 * Handles a key that no case of a walker matched: a known field with an unexpected wire type
 * is malformed; an unknown field is skipped (forward compatibility, as protobuf requires).
 */
function skipField(r: Cursor, tag: number, names: readonly string[]): void {
  const wireType = tag & 7;
  const name = names[tag >>> 3];
  if (name !== undefined) {
    throw new CodecError("Malformed", name, `wrong wire type ${wireType} for this field`);
  }
  skipUnknown(r, tag, 0);
}

/** Deepest group nesting skipped before giving up. */
const MAX_GROUP_DEPTH = 32;

/**
 * Skips an unknown field. Not protobufjs's Reader.skipType: that one accepts varints of any
 * length, ends a group at any end-group key and may read past a narrowed `len`; this one holds
 * unknown fields to the same rules as known ones (and as runtime/raft/confchange-codec.ts).
 */
function skipUnknown(r: Cursor, tag: number, depth: number): void {
  const fieldNo = tag >>> 3;
  const field = `<unknown field ${fieldNo}>`;
  switch (tag & 7) {
    case VARINT:
      readVarint64(r, field);
      return;
    case FIXED64:
    case FIXED32: {
      const n = (tag & 7) === FIXED64 ? 8 : 4;
      if (n > r.len - r.pos) throw truncated(field);
      r.pos += n;
      return;
    }
    case LEN: {
      // (Not `r.pos += readLength(...)`: that would add to the position before the length.)
      const n = readLength(r, field);
      r.pos += n;
      return;
    }
    case START_GROUP:
      // A (deprecated) group: fields up to the end-group key with the same field number.
      if (depth >= MAX_GROUP_DEPTH) throw new CodecError("Malformed", field, `groups nested deeper than ${MAX_GROUP_DEPTH}`);
      for (;;) {
        if (r.pos >= r.len) throw truncated(field);
        const inner = readTag(r, "group");
        if ((inner & 7) === END_GROUP) {
          if (inner >>> 3 !== fieldNo) {
            throw new CodecError("Malformed", field, `group closed by the end-group key of field ${inner >>> 3}`);
          }
          return;
        }
        skipUnknown(r, inner, depth + 1);
      }
    default:
      throw new CodecError("Malformed", field, `invalid wire type ${tag & 7}`);
  }
}

/**
 * Reads a length-delimited submessage with `walk`, narrowing the reader to the submessage so
 * that nothing inside can read past its end, and prefixing errors with `field`.
 */
function readEmbedded<T>(r: Cursor, field: string, walk: (r: Cursor) => T): T {
  const n = readLength(r, field);
  const outerLen = r.len;
  const end = r.pos + n;
  r.len = end;
  try {
    const value = walk(r);
    if (r.pos !== end) throw truncated("");
    return value;
  } catch (err) {
    rethrowWithin(err, field);
  } finally {
    r.len = outerLen;
  }
}

/** Reads a repeated uint64 element, or a packed run of them, appending to `out`. */
function readRepeatedUint(r: Cursor, tag: number, field: string, out: number[]): void {
  if ((tag & 7) === VARINT) {
    out.push(readUint(r, field));
    return;
  }
  const n = readLength(r, field);
  const end = r.pos + n;
  const outerLen = r.len;
  r.len = end;
  try {
    while (r.pos < end) out.push(readUint(r, field));
  } finally {
    r.len = outerLen;
  }
}

// ---------------------------------------------------------------------------------------------
// Decode walkers. Each reads one message body up to r.len; errors carry paths relative to it.

function walkEntry(r: Cursor): Entry {
  let type = 0;
  let term = 0;
  let index = 0;
  let data = EMPTY_BYTES;
  let context = EMPTY_BYTES;
  while (r.pos < r.len) {
    const tag = readTag(r, "Entry");
    switch (tag) {
      case (1 << 3) | VARINT:
        type = readEnum(r, "entry_type", KNOWN_ENTRY_TYPES, "EntryType");
        break;
      case (2 << 3) | VARINT:
        term = readUint(r, "term");
        break;
      case (3 << 3) | VARINT:
        index = readUint(r, "index");
        break;
      case (4 << 3) | LEN:
        data = readBytes(r, "data");
        break;
      case (5 << 3) | VARINT:
        readBool(r, "sync_log"); // deprecated in raft-rs; read for validity, then ignored
        break;
      case (6 << 3) | LEN:
        context = readBytes(r, "context");
        break;
      default:
        skipField(r, tag, ENTRY_FIELDS);
    }
  }
  return { type: type as EntryType, term, index, data, context };
}

function walkHardState(r: Cursor): HardState {
  let term = 0;
  let vote = 0;
  let commit = 0;
  while (r.pos < r.len) {
    const tag = readTag(r, "HardState");
    switch (tag) {
      case (1 << 3) | VARINT:
        term = readUint(r, "term");
        break;
      case (2 << 3) | VARINT:
        vote = readUint(r, "vote");
        break;
      case (3 << 3) | VARINT:
        commit = readUint(r, "commit");
        break;
      default:
        skipField(r, tag, HARD_STATE_FIELDS);
    }
  }
  return { term, vote, commit };
}

function walkConfState(r: Cursor): ConfState {
  const voters: number[] = [];
  const learners: number[] = [];
  const votersOutgoing: number[] = [];
  const ignored: number[] = [];
  while (r.pos < r.len) {
    const tag = readTag(r, "ConfState");
    switch (tag) {
      case (1 << 3) | VARINT:
      case (1 << 3) | LEN:
        readRepeatedUint(r, tag, "voters", voters);
        break;
      case (2 << 3) | VARINT:
      case (2 << 3) | LEN:
        readRepeatedUint(r, tag, "learners", learners);
        break;
      case (3 << 3) | VARINT:
      case (3 << 3) | LEN:
        readRepeatedUint(r, tag, "voters_outgoing", votersOutgoing);
        break;
      case (4 << 3) | VARINT:
      case (4 << 3) | LEN:
        // learners_next only matters in a joint configuration, which is rejected below.
        readRepeatedUint(r, tag, "learners_next", ignored);
        ignored.length = 0;
        break;
      case (5 << 3) | VARINT:
        readBool(r, "auto_leave"); // likewise only meaningful when joint
        break;
      default:
        skipField(r, tag, CONF_STATE_FIELDS);
    }
  }
  if (votersOutgoing.length > 0) {
    throw new CodecError(
      "Unsupported",
      "voters_outgoing",
      `joint consensus is not supported (outgoing voters ${votersOutgoing.join(", ")})`,
    );
  }
  normaliseIds(voters, "voters");
  normaliseIds(learners, "learners");
  for (const id of learners) {
    if (voters.includes(id)) {
      throw new CodecError("Malformed", "learners", `node ${id} is listed both as a voter and as a learner`);
    }
  }
  return { voters, learners };
}

/** Sorts ids ascending (types.ts's invariant for ConfState) and rejects duplicates. */
function normaliseIds(ids: number[], field: string): void {
  let sorted = true;
  for (let i = 1; i < ids.length; i++) {
    if (ids[i - 1]! >= ids[i]!) sorted = false;
  }
  if (sorted) return;
  ids.sort((a, b) => a - b);
  for (let i = 1; i < ids.length; i++) {
    if (ids[i - 1] === ids[i]) throw new CodecError("Malformed", field, `node ${ids[i]} is listed twice`);
  }
}

function walkSnapshotMetadata(r: Cursor): SnapshotMetadata {
  let confState: ConfState | undefined;
  let index = 0;
  let term = 0;
  while (r.pos < r.len) {
    const tag = readTag(r, "SnapshotMetadata");
    switch (tag) {
      case (1 << 3) | LEN:
        confState = readEmbedded(r, "conf_state", walkConfState);
        break;
      case (2 << 3) | VARINT:
        index = readUint(r, "index");
        break;
      case (3 << 3) | VARINT:
        term = readUint(r, "term");
        break;
      default:
        skipField(r, tag, SNAPSHOT_METADATA_FIELDS);
    }
  }
  return { confState: confState ?? { voters: [], learners: [] }, index, term };
}

function walkSnapshot(r: Cursor): Snapshot {
  let data = EMPTY_BYTES;
  let metadata: SnapshotMetadata | undefined;
  while (r.pos < r.len) {
    const tag = readTag(r, "Snapshot");
    switch (tag) {
      case (1 << 3) | LEN:
        data = readBytes(r, "data");
        break;
      case (2 << 3) | LEN:
        metadata = readEmbedded(r, "metadata", walkSnapshotMetadata);
        break;
      default:
        skipField(r, tag, SNAPSHOT_FIELDS);
    }
  }
  return { data, metadata: metadata ?? { confState: { voters: [], learners: [] }, index: 0, term: 0 } };
}

function walkMessage(r: Cursor): Message {
  let type = 0;
  let to = 0;
  let from = 0;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let commitTerm = 0;
  let snapshot: Snapshot | undefined;
  let requestSnapshot = 0;
  let reject = false;
  let rejectHint = 0;
  let context = EMPTY_BYTES;
  let deprecatedPriority = 0;
  let priority = 0;
  while (r.pos < r.len) {
    const tag = readTag(r, "Message");
    switch (tag) {
      case (1 << 3) | VARINT:
        type = readEnum(r, "msg_type", KNOWN_MESSAGE_TYPES, "MessageType");
        break;
      case (2 << 3) | VARINT:
        to = readUint(r, "to");
        break;
      case (3 << 3) | VARINT:
        from = readUint(r, "from");
        break;
      case (4 << 3) | VARINT:
        term = readUint(r, "term");
        break;
      case (5 << 3) | VARINT:
        logTerm = readUint(r, "log_term");
        break;
      case (6 << 3) | VARINT:
        index = readUint(r, "index");
        break;
      case (7 << 3) | LEN:
        // Inlined readEmbedded: the segment `entries[i]` is only built when an entry fails.
        try {
          entries.push(readEmbedded(r, "", walkEntry));
        } catch (err) {
          rethrowWithin(err, `entries[${entries.length}]`);
        }
        break;
      case (8 << 3) | VARINT:
        commit = readUint(r, "commit");
        break;
      case (9 << 3) | LEN:
        snapshot = readEmbedded(r, "snapshot", walkSnapshot);
        break;
      case (10 << 3) | VARINT:
        reject = readBool(r, "reject");
        break;
      case (11 << 3) | VARINT:
        rejectHint = readUint(r, "reject_hint");
        break;
      case (12 << 3) | LEN:
        context = readBytes(r, "context");
        break;
      case (13 << 3) | VARINT:
        requestSnapshot = readUint(r, "request_snapshot");
        break;
      case (14 << 3) | VARINT:
        deprecatedPriority = readUint(r, "deprecated_priority");
        break;
      case (15 << 3) | VARINT:
        commitTerm = readUint(r, "commit_term");
        break;
      case (16 << 3) | VARINT:
        priority = readInt(r, "priority");
        break;
      default:
        skipField(r, tag, MESSAGE_FIELDS);
    }
  }
  return {
    type: type as MessageType,
    to,
    from,
    term,
    logTerm,
    index,
    entries,
    commit,
    commitTerm,
    snapshot,
    requestSnapshot,
    reject,
    rejectHint,
    context,
    // raft-rs's rule: the new field wins unless it is 0, then the deprecated one applies.
    priority: priority !== 0 ? priority : deprecatedPriority,
  };
}

function walkConfChange(r: Cursor): ConfChange {
  let type = 0;
  let nodeId = 0;
  let context = EMPTY_BYTES;
  while (r.pos < r.len) {
    const tag = readTag(r, "ConfChange");
    switch (tag) {
      case (1 << 3) | VARINT:
        readUint(r, "id"); // unused by raftgen; still checked like every uint64
        break;
      case (2 << 3) | VARINT:
        type = readEnum(r, "change_type", KNOWN_CONF_CHANGE_TYPES, "ConfChangeType");
        break;
      case (3 << 3) | VARINT:
        nodeId = readUint(r, "node_id");
        break;
      case (4 << 3) | LEN:
        context = readBytes(r, "context");
        break;
      default:
        skipField(r, tag, CONF_CHANGE_FIELDS);
    }
  }
  return { type: type as ConfChangeType, nodeId, context };
}

/** Decodes a top-level message: errors are prefixed with the message name. */
function decodeTop<T>(bytes: Uint8Array, typeName: string, walk: (r: Cursor) => T): T {
  if (!(bytes instanceof Uint8Array)) {
    throw new CodecError("Malformed", typeName, `expected a Uint8Array, got ${typeof bytes}`);
  }
  const r = new Cursor(bytes);
  try {
    const value = walk(r);
    if (r.pos !== r.len) throw truncated("");
    return value;
  } catch (err) {
    rethrowWithin(err, typeName);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding on a protobufjs Writer.

/**
 * A Writer whose output is a plain Uint8Array of exactly the encoded length. protobufjs's own
 * writers return a Buffer (BufferWriter) or a slice of a shared 8 KiB slab (Writer.alloc's
 * pool); either would leak into storage batches and gRPC frames as a view onto memory that
 * other messages share.
 */
class PlainWriter extends Writer {
  static override alloc(size: number): Uint8Array {
    return new Uint8Array(size);
  }
}

function checkUint(value: number, field: string): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CodecError("OutOfRange", field, `${value} is not a non-negative safe integer`);
  }
}

function checkInt(value: number, field: string): void {
  if (!Number.isSafeInteger(value)) {
    throw new CodecError("OutOfRange", field, `${value} is not a safe integer`);
  }
}

function checkEnum(value: number, field: string, known: readonly boolean[], enumName: string): void {
  if (known[value] !== true) throw new CodecError("UnknownEnum", field, `${value} is not a known ${enumName}`);
}

/** Writes a uint64 field unless it is 0. `tag` is the precomputed key (field << 3 | VARINT). */
function writeUint(w: Writer, tag: number, value: number, field: string): void {
  checkUint(value, field);
  if (value === 0) return;
  w.uint32(tag);
  // uint32() is the cheap path; uint64() converts through LongBits.
  if (value < TWO_POW_32) w.uint32(value);
  else w.uint64(value);
}

/** Writes a bytes field unless it is empty. */
function writeBytes(w: Writer, tag: number, value: Uint8Array, field: string): void {
  if (!(value instanceof Uint8Array)) {
    throw new CodecError("Malformed", field, `expected a Uint8Array, got ${typeof value}`);
  }
  if (value.length === 0) return;
  w.uint32(tag).bytes(value);
}

function writeEntry(w: Writer, e: Entry): void {
  checkEnum(e.type, "entry_type", KNOWN_ENTRY_TYPES, "EntryType");
  if (e.type !== 0) w.uint32((1 << 3) | VARINT).uint32(e.type);
  writeUint(w, (2 << 3) | VARINT, e.term, "term");
  writeUint(w, (3 << 3) | VARINT, e.index, "index");
  writeBytes(w, (4 << 3) | LEN, e.data, "data");
  writeBytes(w, (6 << 3) | LEN, e.context, "context");
}

function writeHardState(w: Writer, hs: HardState): void {
  writeUint(w, (1 << 3) | VARINT, hs.term, "term");
  writeUint(w, (2 << 3) | VARINT, hs.vote, "vote");
  writeUint(w, (3 << 3) | VARINT, hs.commit, "commit");
}

/** Writes a packed repeated uint64 field unless the list is empty. */
function writePackedUints(w: Writer, tag: number, values: readonly number[], field: string): void {
  if (values.length === 0) return;
  w.uint32(tag).fork();
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    checkUint(v, `${field}[${i}]`);
    if (v < TWO_POW_32) w.uint32(v);
    else w.uint64(v);
  }
  w.ldelim();
}

function writeConfState(w: Writer, cs: ConfState): void {
  writePackedUints(w, (1 << 3) | LEN, cs.voters, "voters");
  writePackedUints(w, (2 << 3) | LEN, cs.learners, "learners");
}

function writeSnapshotMetadata(w: Writer, md: SnapshotMetadata): void {
  // Always present, even when empty, as raft-rs writes it.
  w.uint32((1 << 3) | LEN).fork();
  try {
    writeConfState(w, md.confState);
  } catch (err) {
    rethrowWithin(err, "conf_state");
  }
  w.ldelim();
  writeUint(w, (2 << 3) | VARINT, md.index, "index");
  writeUint(w, (3 << 3) | VARINT, md.term, "term");
}

function writeSnapshot(w: Writer, s: Snapshot): void {
  writeBytes(w, (1 << 3) | LEN, s.data, "data");
  w.uint32((2 << 3) | LEN).fork();
  try {
    writeSnapshotMetadata(w, s.metadata);
  } catch (err) {
    rethrowWithin(err, "metadata");
  }
  w.ldelim();
}

function writeMessage(w: Writer, m: Message): void {
  checkEnum(m.type, "msg_type", KNOWN_MESSAGE_TYPES, "MessageType");
  if (m.type !== 0) w.uint32((1 << 3) | VARINT).uint32(m.type);
  writeUint(w, (2 << 3) | VARINT, m.to, "to");
  writeUint(w, (3 << 3) | VARINT, m.from, "from");
  writeUint(w, (4 << 3) | VARINT, m.term, "term");
  writeUint(w, (5 << 3) | VARINT, m.logTerm, "log_term");
  writeUint(w, (6 << 3) | VARINT, m.index, "index");
  const entries = m.entries;
  for (let i = 0; i < entries.length; i++) {
    w.uint32((7 << 3) | LEN).fork();
    try {
      writeEntry(w, entries[i]!);
    } catch (err) {
      rethrowWithin(err, `entries[${i}]`);
    }
    w.ldelim();
  }
  writeUint(w, (8 << 3) | VARINT, m.commit, "commit");
  if (m.snapshot !== undefined) {
    w.uint32((9 << 3) | LEN).fork();
    try {
      writeSnapshot(w, m.snapshot);
    } catch (err) {
      rethrowWithin(err, "snapshot");
    }
    w.ldelim();
  }
  if (m.reject) w.uint32((10 << 3) | VARINT).uint32(1);
  writeUint(w, (11 << 3) | VARINT, m.rejectHint, "reject_hint");
  writeBytes(w, (12 << 3) | LEN, m.context, "context");
  writeUint(w, (13 << 3) | VARINT, m.requestSnapshot, "request_snapshot");
  checkInt(m.priority, "priority");
  // raft-rs sets both priority fields when the priority is positive, so that nodes that only
  // know deprecated_priority still see it; a negative priority only fits the int64 field.
  if (m.priority > 0) writeUint(w, (14 << 3) | VARINT, m.priority, "deprecated_priority");
  writeUint(w, (15 << 3) | VARINT, m.commitTerm, "commit_term");
  if (m.priority !== 0) w.uint32((16 << 3) | VARINT).int64(m.priority);
}

function writeConfChange(w: Writer, cc: ConfChange): void {
  // id (field 1) is always 0 and therefore omitted.
  checkEnum(cc.type, "change_type", KNOWN_CONF_CHANGE_TYPES, "ConfChangeType");
  if (cc.type !== 0) w.uint32((2 << 3) | VARINT).uint32(cc.type);
  writeUint(w, (3 << 3) | VARINT, cc.nodeId, "node_id");
  writeBytes(w, (4 << 3) | LEN, cc.context, "context");
}

/** Encodes a top-level message: errors are prefixed with the message name. */
function encodeTop<T>(value: T, typeName: string, write: (w: Writer, value: T) => void): Uint8Array {
  const w = new PlainWriter();
  try {
    write(w, value);
  } catch (err) {
    rethrowWithin(err, typeName);
  }
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Public API. Every encode throws CodecError("OutOfRange") for a negative or non-safe-integer
// number and CodecError("UnknownEnum") for an enum value outside types.ts; every decode throws
// CodecError for anything that is not valid eraftpb the core can represent.

export function encodeMessage(m: Message): Uint8Array {
  return encodeTop(m, "Message", writeMessage);
}

/**
 * Decodes a Message. `snapshot` is undefined when absent; `priority` is raft-rs's effective
 * priority (`priority`, or `deprecated_priority` when that is 0).
 */
export function decodeMessage(bytes: Uint8Array): Message {
  return decodeTop(bytes, "Message", walkMessage);
}

export function encodeEntry(e: Entry): Uint8Array {
  return encodeTop(e, "Entry", writeEntry);
}

export function decodeEntry(bytes: Uint8Array): Entry {
  return decodeTop(bytes, "Entry", walkEntry);
}

export function encodeHardState(hs: HardState): Uint8Array {
  return encodeTop(hs, "HardState", writeHardState);
}

export function decodeHardState(bytes: Uint8Array): HardState {
  return decodeTop(bytes, "HardState", walkHardState);
}

/** Encodes voters and learners (packed). The joint-consensus fields are never written. */
export function encodeConfState(cs: ConfState): Uint8Array {
  return encodeTop(cs, "ConfState", writeConfState);
}

/**
 * Decodes a ConfState: ids come out sorted ascending; a non-empty voters_outgoing throws
 * CodecError("Unsupported"); learners_next and auto_leave are ignored; duplicate ids and a
 * node that is both voter and learner throw CodecError("Malformed").
 */
export function decodeConfState(bytes: Uint8Array): ConfState {
  return decodeTop(bytes, "ConfState", walkConfState);
}

export function encodeSnapshotMetadata(md: SnapshotMetadata): Uint8Array {
  return encodeTop(md, "SnapshotMetadata", writeSnapshotMetadata);
}

/** Decodes SnapshotMetadata; an absent conf_state decodes as an empty configuration. */
export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  return decodeTop(bytes, "SnapshotMetadata", walkSnapshotMetadata);
}

export function encodeSnapshot(s: Snapshot): Uint8Array {
  return encodeTop(s, "Snapshot", writeSnapshot);
}

/** Decodes a Snapshot; an absent metadata decodes as index 0, term 0, empty configuration. */
export function decodeSnapshot(bytes: Uint8Array): Snapshot {
  return decodeTop(bytes, "Snapshot", walkSnapshot);
}

/**
 * Encodes a ConfChange with id 0. Byte-identical to runtime/raft/confchange-codec.ts's
 * encodeConfChange, which the core uses because it cannot import protobufjs.
 */
export function encodeConfChange(cc: ConfChange): Uint8Array {
  return encodeTop(cc, "ConfChange", writeConfChange);
}

/** Decodes a ConfChange; `id` is checked like every uint64 and then dropped. */
export function decodeConfChange(bytes: Uint8Array): ConfChange {
  return decodeTop(bytes, "ConfChange", walkConfChange);
}
