// The value formats of the node's RocksDB database (the keys are in keys.ts).
//
// /raft/* values are sealed: `payload || CRC-32(key || payload)`, the CRC-32 being zlib's
// (IEEE 802.3 polynomial) as 4 bytes big-endian. Checksumming the key too catches a value
// stored under the wrong key, not only flipped bits. The payloads:
//   first_index, last_index, applied_index   u64 big-endian (8 bytes)
//   uncommit_index                           commit u64 BE || last u64 BE: the range (commit, last]
//   hard_state / conf_state / snapshot       eraftpb HardState / ConfState / SnapshotMetadata
//   entry/<index>                            eraftpb Entry
// Every u64 must be a safe integer (DESIGN: indexes and terms are JS numbers).
//
// /meta/identity: u32 format version || u64 node id || u16 length || cluster id (UTF-8)
//   || u32 CRC-32(key || everything before). The version comes first and the CRC last in every
//   format version, so that a newer format is recognised as such.
//
// /session/<client id>: u8 version (1) || u64 last sequence || cached reply bytes. Session and
// /sm/ values are the state machine's bytes, not sealed: snapshots carry them with their own
// checksum (snapshot-stream.ts).
//
// This file must not do I/O: it builds and parses bytes, and says what is wrong when parsing fails.

import { crc32 } from "node:zlib";

/** The storage format this code writes. Directories with a larger version are refused. */
export const FORMAT_VERSION = 1;

const TWO_POW_32 = 4294967296;
const MAX_SAFE_HI = 0x1fffff;

/** CRC-32 (zlib) of the concatenation of `parts`. */
export function checksum(...parts: Uint8Array[]): number {
  let c = 0;
  for (const p of parts) c = crc32(p, c);
  return c >>> 0;
}

/** `payload || CRC-32(key || payload)`. */
export function seal(key: Uint8Array, payload: Uint8Array): Buffer {
  const out = Buffer.alloc(payload.length + 4);
  out.set(payload, 0);
  out.writeUInt32BE(checksum(key, payload), payload.length);
  return out;
}

/** The payload of a sealed value, or a reason why it cannot be trusted. */
export function unseal(key: Uint8Array, value: Uint8Array): { payload: Uint8Array } | { problem: string } {
  if (value.length < 4) return { problem: `value of ${value.length} bytes is too short to hold its checksum` };
  const payload = value.subarray(0, value.length - 4);
  const stored = Buffer.from(value.buffer, value.byteOffset, value.byteLength).readUInt32BE(value.length - 4);
  const actual = checksum(key, payload);
  if (stored !== actual) {
    return { problem: `checksum mismatch (stored ${hex32(stored)}, computed ${hex32(actual)})` };
  }
  return { payload };
}

function hex32(n: number): string {
  return `0x${n.toString(16).padStart(8, "0")}`;
}

/** Writes a non-negative safe integer as u64 big-endian at `offset`. */
export function writeU64(buf: Buffer, value: number, offset: number): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${value} is not a non-negative safe integer`);
  buf.writeUInt32BE(Math.floor(value / TWO_POW_32), offset);
  buf.writeUInt32BE(value >>> 0, offset + 4);
}

/** Reads a u64 big-endian at `offset`; undefined when it is above Number.MAX_SAFE_INTEGER. */
export function readU64(buf: Uint8Array, offset: number): number | undefined {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const hi = b.readUInt32BE(offset);
  if (hi > MAX_SAFE_HI) return undefined;
  return hi * TWO_POW_32 + b.readUInt32BE(offset + 4);
}

/** A u64 payload (first/last/applied index). */
export function encodeU64(value: number): Buffer {
  const b = Buffer.alloc(8);
  writeU64(b, value, 0);
  return b;
}

/** Parses a u64 payload, or says what is wrong. */
export function decodeU64(payload: Uint8Array): { value: number } | { problem: string } {
  if (payload.length !== 8) return { problem: `expected 8 bytes (u64 big-endian), found ${payload.length}` };
  const value = readU64(payload, 0);
  return value === undefined ? { problem: "value above Number.MAX_SAFE_INTEGER" } : { value };
}

/** The uncommitted range (commit, last] as 16 bytes. */
export function encodeRange(commit: number, last: number): Buffer {
  const b = Buffer.alloc(16);
  writeU64(b, commit, 0);
  writeU64(b, last, 8);
  return b;
}

export function decodeRange(payload: Uint8Array): { commit: number; last: number } | { problem: string } {
  if (payload.length !== 16) return { problem: `expected 16 bytes (two u64 big-endian), found ${payload.length}` };
  const commit = readU64(payload, 0);
  const last = readU64(payload, 8);
  if (commit === undefined || last === undefined) return { problem: "value above Number.MAX_SAFE_INTEGER" };
  return { commit, last };
}

/** Who a data directory belongs to. */
export interface Identity {
  clusterId: string;
  nodeId: number;
  formatVersion: number;
}

/** Longest cluster id, in UTF-8 bytes. */
export const MAX_CLUSTER_ID_BYTES = 255;

export function encodeIdentity(key: Uint8Array, id: Identity): Buffer {
  const cluster = Buffer.from(id.clusterId, "utf8");
  const body = Buffer.alloc(4 + 8 + 2 + cluster.length);
  body.writeUInt32BE(id.formatVersion, 0);
  writeU64(body, id.nodeId, 4);
  body.writeUInt16BE(cluster.length, 12);
  cluster.copy(body, 14);
  return seal(key, body);
}

/**
 * Parses the identity value. A version above FORMAT_VERSION is reported as such (after the
 * checksum is verified, so that a damaged version byte reads as damage, not as "newer").
 */
export function decodeIdentity(
  key: Uint8Array,
  value: Uint8Array,
): { identity: Identity } | { newerVersion: number } | { problem: string } {
  const opened = unseal(key, value);
  if ("problem" in opened) return opened;
  const p = Buffer.from(opened.payload.buffer, opened.payload.byteOffset, opened.payload.byteLength);
  if (p.length < 4) return { problem: "too short to hold the format version" };
  const formatVersion = p.readUInt32BE(0);
  if (formatVersion > FORMAT_VERSION) return { newerVersion: formatVersion };
  if (formatVersion < 1) return { problem: `format version ${formatVersion} does not exist` };
  if (p.length < 14) return { problem: `expected at least 14 bytes, found ${p.length}` };
  const nodeId = readU64(p, 4);
  const len = p.readUInt16BE(12);
  if (nodeId === undefined) return { problem: "node id above Number.MAX_SAFE_INTEGER" };
  if (p.length !== 14 + len) return { problem: `cluster id length ${len} does not match the value's ${p.length - 14} bytes` };
  let clusterId: string;
  try {
    clusterId = new TextDecoder("utf-8", { fatal: true }).decode(p.subarray(14));
  } catch {
    return { problem: "cluster id is not valid UTF-8" };
  }
  return { identity: { clusterId, nodeId, formatVersion } };
}

/** An exactly-once record: the last sequence number applied for a client and its reply. */
export interface Session {
  lastSequence: number;
  reply: Uint8Array;
}

const SESSION_VERSION = 1;

export function encodeSession(s: Session): Buffer {
  const b = Buffer.alloc(9 + s.reply.length);
  b[0] = SESSION_VERSION;
  writeU64(b, s.lastSequence, 1);
  b.set(s.reply, 9);
  return b;
}

/** Parses a session value; undefined when it is not one this version writes. */
export function decodeSession(value: Uint8Array): Session | undefined {
  if (value.length < 9 || value[0] !== SESSION_VERSION) return undefined;
  const lastSequence = readU64(value, 1);
  if (lastSequence === undefined) return undefined;
  return { lastSequence, reply: new Uint8Array(value.subarray(9)) };
}
