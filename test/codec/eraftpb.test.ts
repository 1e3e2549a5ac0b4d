// Tests of the eraftpb codec (runtime/codec/eraftpb.ts) and of the core's hand-written
// ConfChange codec (runtime/raft/confchange-codec.ts).
//
// The codec is the gateway for every byte that reaches the core from the network or from disk
// (STYLE 7.2, 7.6), so besides round trips these tests feed it random, truncated and
// hand-crafted hostile bytes: decoding must either produce a value the core can trust or throw
// a CodecError, never anything else. The direct field walkers are cross-checked against
// protobufjs's reflection encoder and decoder built from proto/eraftpb.proto, which keeps the
// walkers and the .proto honest with each other.
//
// Properties take their run counts from test/raft/fc-params.ts: FC_RUNS=<n> for a soak,
// FC_SEED=<seed> FC_PATH=<path> (with -t "<test name>") to replay a printed counterexample.

import { fc, test } from "@fast-check/vitest";
import protobuf from "protobufjs";
import { describe, expect } from "vitest";
import {
  CodecError,
  decodeConfChange,
  decodeConfState,
  decodeEntry,
  decodeHardState,
  decodeMessage,
  decodeSnapshot,
  decodeSnapshotMetadata,
  encodeConfChange,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeMessage,
  encodeSnapshot,
  encodeSnapshotMetadata,
  ERAFTPB_PROTO_PATH,
  eraftpbRoot,
  isCodecError,
  type CodecErrorCode,
} from "../../runtime/codec/eraftpb.js";
import * as pure from "../../runtime/raft/confchange-codec.js";
import { fcParams } from "../raft/fc-params.js";
import { RaftError } from "../../runtime/raft/errors.js";
import {
  ConfChangeType,
  EntryType,
  MessageType,
  newEntry,
  newMessage,
  type ConfChange,
  type ConfState,
  type Entry,
  type HardState,
  type Message,
  type Snapshot,
  type SnapshotMetadata,
} from "../../runtime/raft/types.js";

// ---------------------------------------------------------------------------------------------
// Arbitraries

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Safe non-negative integers, biased towards varint and 32-bit boundaries. */
const uint64Arb = fc.oneof(
  fc.nat(300),
  fc.constantFrom(0, 127, 128, 16383, 16384, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 35, MAX_SAFE),
  fc.maxSafeNat(),
);
const int64Arb = fc.oneof(fc.integer({ min: -300, max: 300 }), fc.constantFrom(-MAX_SAFE, MAX_SAFE, -1), fc.maxSafeInteger());
const bytesArb = fc.uint8Array({ maxLength: 48 });

const entryTypeArb = fc.constantFrom(...(Object.values(EntryType) as EntryType[]));
const messageTypeArb = fc.constantFrom(...(Object.values(MessageType) as MessageType[]));
const confChangeTypeArb = fc.constantFrom(...(Object.values(ConfChangeType) as ConfChangeType[]));

const entryArb: fc.Arbitrary<Entry> = fc.record({
  type: entryTypeArb,
  term: uint64Arb,
  index: uint64Arb,
  data: bytesArb,
  context: bytesArb,
});

const hardStateArb: fc.Arbitrary<HardState> = fc.record({ term: uint64Arb, vote: uint64Arb, commit: uint64Arb });

/** Voters and learners: sorted, unique, disjoint (types.ts's ConfState invariant). */
const confStateArb: fc.Arbitrary<ConfState> = fc
  .uniqueArray(fc.tuple(uint64Arb, fc.boolean()), { selector: ([id]) => id, maxLength: 9 })
  .map((members) => {
    const sorted = [...members].sort(([a], [b]) => a - b);
    return {
      voters: sorted.filter(([, voter]) => voter).map(([id]) => id),
      learners: sorted.filter(([, voter]) => !voter).map(([id]) => id),
    };
  });

const snapshotMetadataArb: fc.Arbitrary<SnapshotMetadata> = fc.record({
  confState: confStateArb,
  index: uint64Arb,
  term: uint64Arb,
});

const snapshotArb: fc.Arbitrary<Snapshot> = fc.record({ data: bytesArb, metadata: snapshotMetadataArb });

const messageArb: fc.Arbitrary<Message> = fc.record({
  type: messageTypeArb,
  to: uint64Arb,
  from: uint64Arb,
  term: uint64Arb,
  logTerm: uint64Arb,
  index: uint64Arb,
  entries: fc.array(entryArb, { maxLength: 6 }),
  commit: uint64Arb,
  commitTerm: uint64Arb,
  snapshot: fc.option(snapshotArb, { nil: undefined }),
  requestSnapshot: uint64Arb,
  reject: fc.boolean(),
  rejectHint: uint64Arb,
  context: bytesArb,
  priority: int64Arb,
});

const confChangeArb: fc.Arbitrary<ConfChange> = fc.record({
  type: confChangeTypeArb,
  nodeId: uint64Arb,
  context: bytesArb,
});

// ---------------------------------------------------------------------------------------------
// Validity checks: what "a value the core can trust" means for each type.

function checkUint(v: unknown): void {
  expect(Number.isSafeInteger(v) && (v as number) >= 0, `${String(v)} is a safe uint`).toBe(true);
}

function checkBytes(b: unknown): void {
  // Plain Uint8Array, never a Buffer or another subclass.
  expect(Object.getPrototypeOf(b)).toBe(Uint8Array.prototype);
}

function checkEntry(e: Entry): void {
  expect(Object.values(EntryType)).toContain(e.type);
  checkUint(e.term);
  checkUint(e.index);
  checkBytes(e.data);
  checkBytes(e.context);
}

function checkHardState(hs: HardState): void {
  checkUint(hs.term);
  checkUint(hs.vote);
  checkUint(hs.commit);
}

function checkConfState(cs: ConfState): void {
  const ids = [...cs.voters, ...cs.learners];
  ids.forEach(checkUint);
  expect(new Set(ids).size).toBe(ids.length);
  expect(cs.voters).toEqual([...cs.voters].sort((a, b) => a - b));
  expect(cs.learners).toEqual([...cs.learners].sort((a, b) => a - b));
}

function checkSnapshotMetadata(md: SnapshotMetadata): void {
  checkConfState(md.confState);
  checkUint(md.index);
  checkUint(md.term);
}

function checkSnapshot(s: Snapshot): void {
  checkBytes(s.data);
  checkSnapshotMetadata(s.metadata);
}

function checkMessage(m: Message): void {
  expect(Object.values(MessageType)).toContain(m.type);
  for (const v of [m.to, m.from, m.term, m.logTerm, m.index, m.commit, m.commitTerm, m.requestSnapshot, m.rejectHint]) {
    checkUint(v);
  }
  expect(Number.isSafeInteger(m.priority)).toBe(true);
  expect(typeof m.reject).toBe("boolean");
  checkBytes(m.context);
  m.entries.forEach(checkEntry);
  if (m.snapshot !== undefined) checkSnapshot(m.snapshot);
}

function checkConfChange(cc: ConfChange): void {
  expect(Object.values(ConfChangeType)).toContain(cc.type);
  checkUint(cc.nodeId);
  checkBytes(cc.context);
}

// ---------------------------------------------------------------------------------------------
// Raw protobuf bytes, built by hand so that tests can say exactly what is on the wire.

/** Varint of a (possibly negative, then two's complement 64-bit) integer. */
function varint(value: number | bigint): number[] {
  let x = BigInt(value);
  if (x < 0n) x = BigInt.asUintN(64, x);
  const out: number[] = [];
  while (x >= 128n) {
    out.push(Number(x & 127n) | 128);
    x >>= 7n;
  }
  out.push(Number(x));
  return out;
}

function key(field: number, wireType: number): number[] {
  return varint(field * 8 + wireType);
}

/** A varint field. */
function fv(field: number, value: number | bigint): number[] {
  return [...key(field, 0), ...varint(value)];
}

/** A length-delimited field. */
function fl(field: number, payload: ArrayLike<number>): number[] {
  return [...key(field, 2), ...varint(payload.length), ...Array.from(payload)];
}

function bytesOf(...parts: number[][]): Uint8Array {
  return Uint8Array.from(parts.flat());
}

/** Runs `fn` and returns the CodecError it throws (failing if it throws anything else or nothing). */
function codecErrorOf(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err;
    throw new Error(`expected a CodecError, got ${String(err)}`, { cause: err });
  }
  throw new Error("expected a CodecError, nothing was thrown");
}

function expectCodecError(fn: () => unknown, code: CodecErrorCode, path: string): CodecError {
  const err = codecErrorOf(fn);
  expect({ code: err.code, path: err.path }).toEqual({ code, path });
  expect(err.name).toBe("CodecError");
  expect(err.message.startsWith(`${path}: `)).toBe(true);
  return err;
}

/** Offsets at which a top-level field ends (so a prefix ending there is still valid). */
function fieldBoundaries(bytes: Uint8Array): Set<number> {
  const r = new protobuf.Reader(bytes);
  const ends = new Set<number>([0]);
  while (r.pos < r.len) {
    r.skipType(r.uint32() & 7);
    ends.add(r.pos);
  }
  return ends;
}

// ---------------------------------------------------------------------------------------------
// protobufjs reflection, built from the same .proto: an independent encoder and decoder.

const T = {
  Entry: eraftpbRoot.lookupType("eraftpb.Entry"),
  HardState: eraftpbRoot.lookupType("eraftpb.HardState"),
  ConfState: eraftpbRoot.lookupType("eraftpb.ConfState"),
  SnapshotMetadata: eraftpbRoot.lookupType("eraftpb.SnapshotMetadata"),
  Snapshot: eraftpbRoot.lookupType("eraftpb.Snapshot"),
  Message: eraftpbRoot.lookupType("eraftpb.Message"),
  ConfChange: eraftpbRoot.lookupType("eraftpb.ConfChange"),
};

type Obj = Record<string, unknown>;

/** Drops proto3 defaults so that protobufjs's encoder (which writes any set field) omits them. */
function sparse(o: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === 0 || v === false || v === undefined) continue;
    if ((v instanceof Uint8Array || Array.isArray(v)) && v.length === 0) continue;
    out[k] = v;
  }
  return out;
}

const reflect = {
  entry: (e: Entry): Obj =>
    sparse({ entry_type: e.type, term: e.term, index: e.index, data: e.data, context: e.context }),
  confState: (cs: ConfState): Obj => sparse({ voters: cs.voters, learners: cs.learners }),
  metadata: (md: SnapshotMetadata): Obj => ({
    conf_state: reflect.confState(md.confState),
    ...sparse({ index: md.index, term: md.term }),
  }),
  snapshot: (s: Snapshot): Obj => ({ ...sparse({ data: s.data }), metadata: reflect.metadata(s.metadata) }),
  message: (m: Message): Obj => ({
    ...sparse({
      msg_type: m.type,
      to: m.to,
      from: m.from,
      term: m.term,
      log_term: m.logTerm,
      index: m.index,
      entries: m.entries.map(reflect.entry),
      commit: m.commit,
      reject: m.reject,
      reject_hint: m.rejectHint,
      context: m.context,
      request_snapshot: m.requestSnapshot,
      deprecated_priority: m.priority > 0 ? m.priority : 0,
      commit_term: m.commitTerm,
      priority: m.priority,
    }),
    ...(m.snapshot === undefined ? {} : { snapshot: reflect.snapshot(m.snapshot) }),
  }),
};

function reflectEncode(type: protobuf.Type, obj: Obj): Uint8Array {
  return Uint8Array.from(type.encode(type.fromObject(obj)).finish());
}

/** Decodes with protobufjs reflection into plain objects: numbers for 64-bit fields, arrays for bytes. */
function reflectDecode(type: protobuf.Type, bytes: Uint8Array): Obj {
  return type.toObject(type.decode(bytes), { longs: Number, enums: Number, bytes: Array, defaults: true, arrays: true });
}

const arr = (b: Uint8Array): number[] => Array.from(b);

// ---------------------------------------------------------------------------------------------
// The same battery for every type: round trip, canonical bytes equal to protobufjs reflection,
// random bytes, mutated encodings and truncated encodings.

interface CodecCase<T> {
  name: keyof typeof T;
  arb: fc.Arbitrary<T>;
  encode: (v: T) => Uint8Array;
  decode: (b: Uint8Array) => T;
  check: (v: T) => void;
  toReflect: (v: T) => Obj;
}

/**
 * Decodes possibly hostile bytes: either a CodecError, or a trustworthy value that protobufjs's
 * reflection decoder, when it accepts the bytes too, reads the same way (compared by decoding
 * its canonical re-encoding). protobufjs may reject what we accept: its uint32() assumes that a
 * varint longer than five bytes is exactly ten, so a key written as a six-byte (non-minimal, but
 * valid) varint throws there.
 */
function decodeOrCodecError<T>(c: CodecCase<T>, bytes: Uint8Array): void {
  let value: T;
  try {
    value = c.decode(bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError);
    return;
  }
  c.check(value);
  let viaReflection: Obj;
  try {
    viaReflection = reflectDecode(T[c.name], bytes);
  } catch {
    return;
  }
  expect(c.decode(reflectEncode(T[c.name], viaReflection))).toEqual(value);
}

function codecCase<T>(c: CodecCase<T>): void {
  describe(c.name, () => {
    test.prop([c.arb], fcParams<[T]>(100))("decode(encode(x)) equals x, and re-encoding gives the same bytes", (x) => {
      const bytes = c.encode(x);
      checkBytes(bytes);
      const back = c.decode(bytes);
      expect(back).toEqual(x);
      c.check(back);
      expect(c.encode(back)).toEqual(bytes);
    });

    test.prop([c.arb], fcParams<[T]>(100))("encodes byte for byte like protobufjs reflection, which decodes it back", (x) => {
      const bytes = c.encode(x);
      expect(arr(bytes)).toEqual(arr(reflectEncode(T[c.name], c.toReflect(x))));
      // And the independent decoder reads our bytes as the same value.
      const viaReflection = reflectEncode(T[c.name], reflectDecode(T[c.name], bytes));
      expect(c.decode(viaReflection)).toEqual(x);
    });

    test.prop([fc.uint8Array({ maxLength: 96 })], fcParams<[Uint8Array<ArrayBuffer>]>(2000))(
      "arbitrary bytes decode to a trustworthy value or throw CodecError, nothing else",
      (bytes) => {
        decodeOrCodecError(c, bytes);
      },
    );

    test.prop([c.arb, fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 4 })], fcParams<[T, [number, number][]]>(100))(
      "valid encodings with bytes overwritten decode to a trustworthy value or throw CodecError",
      (x, edits) => {
        const bytes = c.encode(x);
        fc.pre(bytes.length > 0);
        for (const [at, value] of edits) bytes[at % bytes.length] = value;
        decodeOrCodecError(c, bytes);
      },
    );

    test.prop([c.arb], fcParams<[T]>(100))("a prefix cut inside a field is rejected as Malformed", (x) => {
      const bytes = c.encode(x);
      const boundaries = fieldBoundaries(bytes);
      // Collected and asserted once: expect() per cut makes long soaks (FC_RUNS) crawl.
      const wrong: string[] = [];
      for (let cut = 0; cut < bytes.length; cut++) {
        const prefix = bytes.subarray(0, cut);
        if (boundaries.has(cut)) {
          c.decode(prefix); // a complete shorter message: must decode
          continue;
        }
        try {
          c.decode(prefix);
          wrong.push(`cut at ${cut}: decoded`);
        } catch (err) {
          if (!isCodecError(err, "Malformed")) wrong.push(`cut at ${cut}: ${String(err)}`);
        }
      }
      expect(wrong).toEqual([]);
    });
  });
}

codecCase({ name: "Entry", arb: entryArb, encode: encodeEntry, decode: decodeEntry, check: checkEntry, toReflect: reflect.entry });
codecCase({
  name: "HardState",
  arb: hardStateArb,
  encode: encodeHardState,
  decode: decodeHardState,
  check: checkHardState,
  toReflect: (hs) => sparse({ ...hs }),
});
codecCase({
  name: "ConfState",
  arb: confStateArb,
  encode: encodeConfState,
  decode: decodeConfState,
  check: checkConfState,
  toReflect: reflect.confState,
});
codecCase({
  name: "SnapshotMetadata",
  arb: snapshotMetadataArb,
  encode: encodeSnapshotMetadata,
  decode: decodeSnapshotMetadata,
  check: checkSnapshotMetadata,
  toReflect: reflect.metadata,
});
codecCase({
  name: "Snapshot",
  arb: snapshotArb,
  encode: encodeSnapshot,
  decode: decodeSnapshot,
  check: checkSnapshot,
  toReflect: reflect.snapshot,
});
codecCase({
  name: "Message",
  arb: messageArb,
  encode: encodeMessage,
  decode: decodeMessage,
  check: checkMessage,
  toReflect: reflect.message,
});
codecCase({
  name: "ConfChange",
  arb: confChangeArb,
  encode: encodeConfChange,
  decode: decodeConfChange,
  check: checkConfChange,
  toReflect: (cc) => sparse({ change_type: cc.type, node_id: cc.nodeId, context: cc.context }),
});

// ---------------------------------------------------------------------------------------------

describe("schema", () => {
  test("is loaded from proto/eraftpb.proto found above the module", () => {
    expect(ERAFTPB_PROTO_PATH.replaceAll("\\", "/").endsWith("/proto/eraftpb.proto")).toBe(true);
  });

  test("MessageType in the .proto numbers all 19 types exactly as types.ts does", () => {
    const fromProto = eraftpbRoot.lookupEnum("eraftpb.MessageType").values;
    expect(Object.keys(MessageType)).toHaveLength(19);
    expect(fromProto).toEqual({ ...MessageType });
    expect(fromProto["MsgHup"]).toBe(0);
    expect(fromProto["MsgRequestPreVoteResponse"]).toBe(18);
  });

  test("EntryType and ConfChangeType in the .proto match types.ts", () => {
    expect(eraftpbRoot.lookupEnum("eraftpb.EntryType").values).toEqual({ ...EntryType });
    expect(eraftpbRoot.lookupEnum("eraftpb.ConfChangeType").values).toEqual({ ...ConfChangeType });
  });

  test("field numbers are raft-rs's", () => {
    const ids = (type: protobuf.Type): Record<string, number> =>
      Object.fromEntries(Object.values(type.fields).map((f) => [f.name, f.id]));
    expect(ids(T.Entry)).toEqual({ entry_type: 1, term: 2, index: 3, data: 4, context: 6, sync_log: 5 });
    expect(ids(T.Message)).toEqual({
      msg_type: 1,
      to: 2,
      from: 3,
      term: 4,
      log_term: 5,
      index: 6,
      entries: 7,
      commit: 8,
      snapshot: 9,
      request_snapshot: 13,
      reject: 10,
      reject_hint: 11,
      context: 12,
      deprecated_priority: 14,
      priority: 16,
      commit_term: 15,
    });
    expect(ids(T.HardState)).toEqual({ term: 1, vote: 2, commit: 3 });
    expect(ids(T.ConfState)).toEqual({ voters: 1, learners: 2, voters_outgoing: 3, learners_next: 4, auto_leave: 5 });
    expect(ids(T.SnapshotMetadata)).toEqual({ conf_state: 1, index: 2, term: 3 });
    expect(ids(T.Snapshot)).toEqual({ data: 1, metadata: 2 });
    expect(ids(T.ConfChange)).toEqual({ id: 1, change_type: 2, node_id: 3, context: 4 });
  });
});

describe("proto3 defaults", () => {
  test("all-default values encode to no bytes and empty bytes decode to all defaults", () => {
    const emptyMessage = newMessage({ type: MessageType.MsgHup });
    expect(encodeMessage(emptyMessage)).toHaveLength(0);
    expect(decodeMessage(new Uint8Array(0))).toEqual({ ...emptyMessage, snapshot: undefined });
    expect(decodeMessage(new Uint8Array(0)).snapshot).toBeUndefined();

    const emptyEntry = newEntry({ term: 0, index: 0 });
    expect(encodeEntry(emptyEntry)).toHaveLength(0);
    expect(decodeEntry(new Uint8Array(0))).toEqual(emptyEntry);

    expect(encodeHardState({ term: 0, vote: 0, commit: 0 })).toHaveLength(0);
    expect(decodeHardState(new Uint8Array(0))).toEqual({ term: 0, vote: 0, commit: 0 });

    expect(encodeConfState({ voters: [], learners: [] })).toHaveLength(0);
    expect(decodeConfState(new Uint8Array(0))).toEqual({ voters: [], learners: [] });

    const cc: ConfChange = { type: ConfChangeType.AddNode, nodeId: 0, context: new Uint8Array(0) };
    expect(encodeConfChange(cc)).toHaveLength(0);
    expect(decodeConfChange(new Uint8Array(0))).toEqual(cc);
  });

  test("absent submessages decode to empty ones, except Message.snapshot which stays undefined", () => {
    const emptyMetadata = { confState: { voters: [], learners: [] }, index: 0, term: 0 };
    expect(decodeSnapshot(new Uint8Array(0))).toEqual({ data: new Uint8Array(0), metadata: emptyMetadata });
    expect(decodeSnapshotMetadata(new Uint8Array(0))).toEqual(emptyMetadata);
    // A present but empty snapshot is kept (the core treats it as empty by its index).
    expect(decodeMessage(bytesOf(fl(9, []))).snapshot).toEqual({ data: new Uint8Array(0), metadata: emptyMetadata });
  });

  test("an empty snapshot still carries its metadata and conf state on the wire, as raft-rs writes it", () => {
    const s: Snapshot = { data: new Uint8Array(0), metadata: { confState: { voters: [], learners: [] }, index: 0, term: 0 } };
    expect(arr(encodeSnapshot(s))).toEqual([...fl(2, fl(1, []))]);
  });

  test("fields written explicitly as zero, false or empty decode as if absent", () => {
    const explicit = bytesOf(fv(1, 0), fv(2, 0), fv(4, 0), fl(7, []), fv(10, 0), fl(12, []), fv(16, 0));
    expect(decodeMessage(explicit)).toEqual({ ...newMessage({ type: MessageType.MsgHup }), entries: [newEntry({ term: 0, index: 0 })] });
    expect(decodeHardState(bytesOf(fv(1, 0), fv(2, 0), fv(3, 0)))).toEqual({ term: 0, vote: 0, commit: 0 });
  });

  test("a repeated scalar set twice keeps the last value (protobuf's merge rule)", () => {
    expect(decodeHardState(bytesOf(fv(1, 5), fv(1, 7))).term).toBe(7);
  });

  test("non-minimal varints (up to 10 bytes) are valid, for keys as for values", () => {
    const longKey = [0x88, 0x80, 0x80, 0x80, 0x80, 0x00]; // key of field 1, varint, in six bytes
    const longFive = [0x85, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]; // 5 in ten bytes
    expect(decodeHardState(bytesOf(longKey, longFive))).toEqual({ term: 5, vote: 0, commit: 0 });
    expect(pure.decodeConfChange(bytesOf([0x98, 0x80, 0x80, 0x80, 0x80, 0x00], longFive)).nodeId).toBe(5);
  });

  test("unknown fields of every wire type are skipped", () => {
    const hs = [...fv(1, 3), ...fv(2, 2), ...fv(3, 9)];
    const unknown = [
      fv(99, 123456789),
      fl(100, [1, 2, 3]),
      [...key(101, 1), 1, 2, 3, 4, 5, 6, 7, 8],
      [...key(102, 5), 1, 2, 3, 4],
      [...key(103, 3), ...fv(1, 7), ...key(103, 4)],
    ];
    for (const u of unknown) {
      expect(decodeHardState(bytesOf(u, hs, u))).toEqual({ term: 3, vote: 2, commit: 9 });
      expect(decodeMessage(bytesOf(u, fl(7, bytesOf(u, fv(2, 4))), u)).entries[0]!.term).toBe(4);
      expect(decodeConfChange(bytesOf(u, fv(3, 5), u)).nodeId).toBe(5);
      expect(pure.decodeConfChange(bytesOf(u, fv(3, 5), u)).nodeId).toBe(5);
    }
  });

  test("repeated ids are read both packed and unpacked; ConfState ids come out sorted", () => {
    expect(decodeConfState(bytesOf(fl(1, [...varint(1), ...varint(2)]), fv(1, 3), fv(2, 5)))).toEqual({
      voters: [1, 2, 3],
      learners: [5],
    });
    expect(decodeConfState(bytesOf(fv(1, 3), fv(1, 1), fv(1, 2)))).toEqual({ voters: [1, 2, 3], learners: [] });
  });

  test("ConfState learners_next and auto_leave are ignored; an empty voters_outgoing is not joint", () => {
    const cs = bytesOf(fv(1, 1), fl(3, []), fl(4, [...varint(7), ...varint(8)]), fv(4, 9), fv(5, 1));
    expect(decodeConfState(cs)).toEqual({ voters: [1], learners: [] });
  });

  test("priority follows raft-rs: both fields when positive, the deprecated one read only when priority is 0", () => {
    const m = newMessage({ type: MessageType.MsgRequestVote, priority: 5 });
    expect(reflectDecode(T.Message, encodeMessage(m))).toMatchObject({ priority: 5, deprecated_priority: 5 });
    const negative = newMessage({ type: MessageType.MsgRequestVote, priority: -5 });
    expect(reflectDecode(T.Message, encodeMessage(negative))).toMatchObject({ priority: -5, deprecated_priority: 0 });
    expect(decodeMessage(bytesOf(fv(14, 7))).priority).toBe(7);
    expect(decodeMessage(bytesOf(fv(14, 7), fv(16, -2))).priority).toBe(-2);
    expect(decodeMessage(bytesOf(fv(16, -MAX_SAFE))).priority).toBe(-MAX_SAFE);
  });

  test("decoded byte fields are fresh plain Uint8Arrays, also from a Buffer, and alias nothing", () => {
    const m = newMessage({
      type: MessageType.MsgAppend,
      context: Uint8Array.of(1, 2),
      entries: [newEntry({ term: 1, index: 1, data: Uint8Array.of(3, 4), context: Uint8Array.of(5) })],
    });
    const bytes = Buffer.from(encodeMessage(m));
    const back = decodeMessage(bytes);
    checkMessage(back);
    bytes.fill(0);
    expect(back).toEqual(m);
    const cc = decodeConfChange(Buffer.from(encodeConfChange({ type: 1, nodeId: 2, context: Uint8Array.of(9) })));
    checkBytes(cc.context);
    checkBytes(pure.decodeConfChange(Buffer.from(pure.encodeConfChange(cc))).context);
  });

  test("encodings are plain Uint8Arrays of their own, not views into a shared slab", () => {
    const bytes = encodeMessage(newMessage({ type: MessageType.MsgHeartbeat, to: 2, from: 1, term: 3 }));
    checkBytes(bytes);
    expect(bytes.byteOffset).toBe(0);
    expect(bytes.buffer.byteLength).toBe(bytes.length);
  });
});

describe("decoding rejects", () => {
  // Every uint64 field, where it lives, and how to wrap raw field bytes to reach it.
  const wrapEntry = (f: number[]): Uint8Array => bytesOf(fl(7, f));
  const uint64Fields: Array<[string, (v: bigint) => Uint8Array, (b: Uint8Array) => unknown, string]> = [
    ...(
      [
        [2, "to"],
        [3, "from"],
        [4, "term"],
        [5, "log_term"],
        [6, "index"],
        [8, "commit"],
        [11, "reject_hint"],
        [13, "request_snapshot"],
        [14, "deprecated_priority"],
        [15, "commit_term"],
      ] as const
    ).map(
      ([n, name]) => [`Message.${name}`, (v: bigint) => bytesOf(fv(n, v)), decodeMessage, `Message.${name}`] as [
        string,
        (v: bigint) => Uint8Array,
        (b: Uint8Array) => unknown,
        string,
      ],
    ),
    ["Message.entries[1].index", (v) => bytesOf(fl(7, []), [...wrapEntry(fv(3, v))]), decodeMessage, "Message.entries[1].index"],
    ["Entry.term", (v) => bytesOf(fv(2, v)), decodeEntry, "Entry.term"],
    ["Entry.index", (v) => bytesOf(fv(3, v)), decodeEntry, "Entry.index"],
    ["HardState.term", (v) => bytesOf(fv(1, v)), decodeHardState, "HardState.term"],
    ["HardState.vote", (v) => bytesOf(fv(2, v)), decodeHardState, "HardState.vote"],
    ["HardState.commit", (v) => bytesOf(fv(3, v)), decodeHardState, "HardState.commit"],
    ["ConfState.voters (unpacked)", (v) => bytesOf(fv(1, v)), decodeConfState, "ConfState.voters"],
    ["ConfState.learners (packed)", (v) => bytesOf(fl(2, [1, ...varint(v)])), decodeConfState, "ConfState.learners"],
    ["SnapshotMetadata.index", (v) => bytesOf(fv(2, v)), decodeSnapshotMetadata, "SnapshotMetadata.index"],
    ["SnapshotMetadata.term", (v) => bytesOf(fv(3, v)), decodeSnapshotMetadata, "SnapshotMetadata.term"],
    [
      "Message.snapshot.metadata.conf_state.voters",
      (v) => bytesOf(fl(9, fl(2, fl(1, fv(1, v))))),
      decodeMessage,
      "Message.snapshot.metadata.conf_state.voters",
    ],
    ["ConfChange.id", (v) => bytesOf(fv(1, v)), decodeConfChange, "ConfChange.id"],
    ["ConfChange.node_id", (v) => bytesOf(fv(3, v)), decodeConfChange, "ConfChange.node_id"],
  ];

  test.each(uint64Fields)("%s above Number.MAX_SAFE_INTEGER (2^53 and 2^64-1), accepting 2^53-1", (_, build, decode, path) => {
    expect(() => decode(build(BigInt(MAX_SAFE)))).not.toThrow();
    const err = expectCodecError(() => decode(build(2n ** 53n)), "OutOfRange", path);
    expect(err.message).toContain("9007199254740992");
    expectCodecError(() => decode(build(2n ** 64n - 1n)), "OutOfRange", path);
  });

  test("Message.priority (int64) outside ±MAX_SAFE_INTEGER", () => {
    expectCodecError(() => decodeMessage(bytesOf(fv(16, 2n ** 53n))), "OutOfRange", "Message.priority");
    expectCodecError(() => decodeMessage(bytesOf(fv(16, -(2n ** 53n)))), "OutOfRange", "Message.priority");
    expectCodecError(() => decodeMessage(bytesOf(fv(16, -(2n ** 63n)))), "OutOfRange", "Message.priority");
    expect(decodeMessage(bytesOf(fv(16, 2n ** 64n - 1n))).priority).toBe(-1); // int64 -1 on the wire
  });

  test("varints that overflow 64 bits", () => {
    const eleven = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
    expectCodecError(() => decodeHardState(bytesOf(key(1, 0), eleven)), "Malformed", "HardState.term");
    const tenthTooBig = [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02];
    expectCodecError(() => decodeHardState(bytesOf(key(1, 0), tenthTooBig)), "Malformed", "HardState.term");
  });

  test("unknown enum values", () => {
    expectCodecError(() => decodeMessage(bytesOf(fv(1, 19))), "UnknownEnum", "Message.msg_type");
    expectCodecError(() => decodeMessage(bytesOf(fv(1, -1))), "UnknownEnum", "Message.msg_type");
    expectCodecError(() => decodeMessage(bytesOf(fv(1, 2n ** 32n + 3n))), "UnknownEnum", "Message.msg_type");
    expectCodecError(() => decodeEntry(bytesOf(fv(1, 3))), "UnknownEnum", "Entry.entry_type");
    expectCodecError(() => decodeMessage(bytesOf(fl(7, fv(1, 7)))), "UnknownEnum", "Message.entries[0].entry_type");
    expectCodecError(() => decodeConfChange(bytesOf(fv(2, 3))), "UnknownEnum", "ConfChange.change_type");
    const err = codecErrorOf(() => decodeMessage(bytesOf(fv(1, -1))));
    expect(err.message).toContain("-1 is not a known MessageType");
  });

  test("a joint ConfState (non-empty voters_outgoing), wherever it appears", () => {
    const err = expectCodecError(() => decodeConfState(bytesOf(fv(1, 1), fv(3, 2))), "Unsupported", "ConfState.voters_outgoing");
    expect(err.message).toContain("joint consensus is not supported");
    expectCodecError(
      () => decodeConfState(bytesOf(fl(3, [1, 2]))),
      "Unsupported",
      "ConfState.voters_outgoing",
    );
    expectCodecError(
      () => decodeMessage(bytesOf(fl(9, fl(2, fl(1, fv(3, 4)))))),
      "Unsupported",
      "Message.snapshot.metadata.conf_state.voters_outgoing",
    );
  });

  test("a ConfState listing a node twice or as both voter and learner", () => {
    expectCodecError(() => decodeConfState(bytesOf(fv(1, 2), fv(1, 1), fv(1, 2))), "Malformed", "ConfState.voters");
    expectCodecError(() => decodeConfState(bytesOf(fv(1, 2), fv(2, 2))), "Malformed", "ConfState.learners");
  });

  test("known fields with the wrong wire type", () => {
    expectCodecError(() => decodeHardState(bytesOf(fl(1, [1]))), "Malformed", "HardState.term");
    expectCodecError(() => decodeMessage(bytesOf(fv(7, 1))), "Malformed", "Message.entries");
    expectCodecError(() => decodeMessage(bytesOf(fv(9, 1))), "Malformed", "Message.snapshot");
    expectCodecError(() => decodeMessage(bytesOf(fv(12, 1))), "Malformed", "Message.context");
    expectCodecError(() => decodeMessage(bytesOf([...key(4, 5), 1, 0, 0, 0])), "Malformed", "Message.term");
    expectCodecError(() => decodeEntry(bytesOf([...key(2, 1), 1, 0, 0, 0, 0, 0, 0, 0])), "Malformed", "Entry.term");
    expectCodecError(() => decodeSnapshot(bytesOf(fv(2, 0))), "Malformed", "Snapshot.metadata");
  });

  test("invalid keys, wire types and lengths", () => {
    expectCodecError(() => decodeHardState(bytesOf(fv(0, 1))), "Malformed", "HardState");
    expectCodecError(() => decodeHardState(bytesOf(key(99, 6))), "Malformed", "HardState.<unknown field 99>");
    expectCodecError(() => decodeHardState(bytesOf(key(99, 4))), "Malformed", "HardState.<unknown field 99>");
    expectCodecError(() => decodeHardState(bytesOf(key(99, 3), fv(1, 1))), "Malformed", "HardState.<unknown field 99>");
    // A length that runs past the end, at the top and inside an entry.
    expectCodecError(() => decodeMessage(bytesOf(key(12, 2), varint(5), [1, 2])), "Malformed", "Message.context");
    expectCodecError(
      () => decodeMessage(bytesOf(fl(7, [...key(4, 2), 9, 1]))),
      "Malformed",
      "Message.entries[0].data",
    );
    // An entry whose field crosses the entry's end into the next bytes of the message.
    expectCodecError(() => decodeMessage(bytesOf(fl(7, [...key(2, 0), 0x80]), fv(4, 1))), "Malformed", "Message.entries[0].term");
    expectCodecError(() => decodeMessage(bytesOf(key(12, 2), varint(2n ** 53n))), "OutOfRange", "Message.context");
  });
});

describe("encoding rejects", () => {
  const base = newMessage({ type: MessageType.MsgAppend, to: 2, from: 1, term: 3 });

  test.each([-1, 1.5, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, -0.5])("a uint64 field set to %s", (bad) => {
    expectCodecError(() => encodeMessage({ ...base, term: bad }), "OutOfRange", "Message.term");
    expectCodecError(() => encodeHardState({ term: 1, vote: bad, commit: 1 }), "OutOfRange", "HardState.vote");
    expectCodecError(() => encodeEntry(newEntry({ term: 1, index: bad })), "OutOfRange", "Entry.index");
    expectCodecError(() => encodeConfChange({ type: 0, nodeId: bad, context: new Uint8Array(0) }), "OutOfRange", "ConfChange.node_id");
  });

  test("nested fields, with their path", () => {
    const entries = [newEntry({ term: 1, index: 1 }), newEntry({ term: 1, index: 2 }), newEntry({ term: 1, index: 2 ** 53 })];
    expectCodecError(() => encodeMessage({ ...base, entries }), "OutOfRange", "Message.entries[2].index");
    const snapshot: Snapshot = { data: new Uint8Array(0), metadata: { confState: { voters: [1, -2], learners: [] }, index: 1, term: 1 } };
    expectCodecError(() => encodeMessage({ ...base, snapshot }), "OutOfRange", "Message.snapshot.metadata.conf_state.voters[1]");
  });

  test("priority must be a safe integer but may be negative (int64)", () => {
    expectCodecError(() => encodeMessage({ ...base, priority: 2 ** 53 }), "OutOfRange", "Message.priority");
    expectCodecError(() => encodeMessage({ ...base, priority: -(2 ** 53) }), "OutOfRange", "Message.priority");
    expect(decodeMessage(encodeMessage({ ...base, priority: -7 })).priority).toBe(-7);
  });

  test("unknown enum values", () => {
    expectCodecError(() => encodeMessage({ ...base, type: 19 as MessageType }), "UnknownEnum", "Message.msg_type");
    expectCodecError(() => encodeEntry(newEntry({ term: 1, index: 1, type: 3 as EntryType })), "UnknownEnum", "Entry.entry_type");
    expectCodecError(
      () => encodeConfChange({ type: 3 as ConfChangeType, nodeId: 1, context: new Uint8Array(0) }),
      "UnknownEnum",
      "ConfChange.change_type",
    );
  });

  test("isCodecError narrows by code", () => {
    const err = codecErrorOf(() => encodeHardState({ term: -1, vote: 0, commit: 0 }));
    expect(isCodecError(err)).toBe(true);
    expect(isCodecError(err, "OutOfRange")).toBe(true);
    expect(isCodecError(err, "Malformed")).toBe(false);
    expect(isCodecError(new Error("x"))).toBe(false);
  });
});

describe("the core's pure ConfChange codec (runtime/raft/confchange-codec.ts)", () => {
  test.prop([confChangeArb], fcParams<[ConfChange]>(100))("encodes byte for byte like the protobufjs codec", (cc) => {
    expect(arr(pure.encodeConfChange(cc))).toEqual(arr(encodeConfChange(cc)));
  });

  test.prop([confChangeArb], fcParams<[ConfChange]>(100))("round-trips, and each codec reads the other's bytes", (cc) => {
    expect(pure.decodeConfChange(pure.encodeConfChange(cc))).toEqual(cc);
    expect(pure.decodeConfChange(encodeConfChange(cc))).toEqual(cc);
    expect(decodeConfChange(pure.encodeConfChange(cc))).toEqual(cc);
  });

  test.prop([confChangeArb, uint64Arb], fcParams<[ConfChange, number]>(100))("reads a non-zero id (written by other implementations) and drops it", (cc, id) => {
    const withId = reflectEncode(T.ConfChange, { id, change_type: cc.type, node_id: cc.nodeId, context: cc.context });
    expect(pure.decodeConfChange(withId)).toEqual(cc);
    expect(decodeConfChange(withId)).toEqual(cc);
  });

  test.prop([fc.uint8Array({ maxLength: 48 })], fcParams<[Uint8Array<ArrayBuffer>]>(3000))(
    "arbitrary bytes decode to a valid ConfChange or throw RaftError InvalidConfig, agreeing with the protobufjs codec",
    (bytes) => {
      let ours: ConfChange | RaftError;
      try {
        ours = pure.decodeConfChange(bytes);
        checkConfChange(ours);
      } catch (err) {
        expect(err).toBeInstanceOf(RaftError);
        expect((err as RaftError).code).toBe("InvalidConfig");
        ours = err as RaftError;
      }
      let theirs: ConfChange | CodecError;
      try {
        theirs = decodeConfChange(bytes);
      } catch (err) {
        expect(err).toBeInstanceOf(CodecError);
        theirs = err as CodecError;
      }
      // Both accept the same inputs and read the same value.
      if (ours instanceof RaftError || theirs instanceof CodecError) {
        expect([ours instanceof RaftError, theirs instanceof CodecError]).toEqual([true, true]);
      } else {
        expect(ours).toEqual(theirs);
      }
    },
  );

  const invalid: Array<[string, number[]]> = [
    ["truncated node id", [...key(3, 0), 0x80]],
    ["truncated context", [...key(4, 2), 3, 1]],
    ["node id 2^53", fv(3, 2n ** 53n)],
    ["node id 2^64-1", fv(3, 2n ** 64n - 1n)],
    ["id 2^64-1", fv(1, 2n ** 64n - 1n)],
    ["change type 3", fv(2, 3)],
    ["change type -1", fv(2, -1)],
    ["node id as bytes", fl(3, [1])],
    ["context as varint", fv(4, 1)],
    ["field number 0", fv(0, 1)],
    ["wire type 7", key(9, 7)],
    ["stray end-group", key(9, 4)],
    ["unterminated group", [...key(9, 3), ...fv(1, 1)]],
    ["11-byte varint", [...key(3, 0), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]],
  ];

  test.each(invalid)("rejects %s with RaftError InvalidConfig, as the protobufjs codec rejects it", (_, raw) => {
    const bytes = Uint8Array.from(raw);
    let err: unknown;
    try {
      pure.decodeConfChange(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(RaftError);
    expect((err as RaftError).code).toBe("InvalidConfig");
    expect((err as RaftError).message).toMatch(/^ConfChange: /);
    expect(() => decodeConfChange(bytes)).toThrow(CodecError);
  });

  test("encode rejects an unknown type and a node id that is not a non-negative safe integer", () => {
    for (const cc of [
      { type: 3 as ConfChangeType, nodeId: 1, context: new Uint8Array(0) },
      { type: ConfChangeType.AddNode, nodeId: -1, context: new Uint8Array(0) },
      { type: ConfChangeType.AddNode, nodeId: 2 ** 53, context: new Uint8Array(0) },
      { type: ConfChangeType.AddNode, nodeId: 0.5, context: new Uint8Array(0) },
    ]) {
      expect(() => pure.encodeConfChange(cc)).toThrow(RaftError);
    }
  });

  test("known bytes: RemoveNode of node 300 with context [7]", () => {
    const cc: ConfChange = { type: ConfChangeType.RemoveNode, nodeId: 300, context: Uint8Array.of(7) };
    expect(arr(pure.encodeConfChange(cc))).toEqual([0x10, 0x01, 0x18, 0xac, 0x02, 0x22, 0x01, 0x07]);
  });
});
