// The key layout of a node's RocksDB database (DESIGN "Storage"), in one place.
//
//   /meta/identity                  cluster id, node id, format version (values.ts)
//   /raft/first_index               first index still in the log
//   /raft/last_index                last index in the log
//   /raft/hard_state                eraftpb HardState
//   /raft/conf_state                eraftpb ConfState
//   /raft/entry/<20-digit index>    one eraftpb Entry; zero padding keeps key order = index order
//   /raft/uncommit_index            the range (commit, last] as two numbers
//   /raft/snapshot                  eraftpb SnapshotMetadata of the latest snapshot (no data)
//   /raft/applied_index             last applied index (same batch as the entry's effects)
//   /sm/<table>/<encoded key>       state tables
//   /session/<client id>            exactly-once table
//
// Every key is ASCII up to its user part. Raft's keys, the state tables and the sessions live
// under disjoint prefixes, and the only way to build a /sm/ or /session/ key is through
// stateKey() / sessionKey() below, which always put the fixed prefix first and refuse a table
// name that could end the table segment early. So no user key can land in /raft/ or /meta/
// (STYLE 8.1 rule 10; the seed wrote client keys unprefixed next to Raft's own).
//
// Table key encoding (order-preserving within a table, byte order = key order):
//   uint64 key: 0x01 then 8 bytes big-endian     (all uint64 keys sort before string keys)
//   string key: 0x02 then the UTF-8 bytes         (UTF-8 byte order = code point order)
// A table has one key type in practice; the tag keeps a decoded key's type unambiguous.
// Strings with lone surrogates are refused (UTF-8 cannot hold them, so two different JS
// strings would otherwise share one key).
//
// This file must not do I/O or import the RocksDB binding: it builds and parses bytes.

import { StorageError } from "./errors.js";

/** A state-table key as handlers give it: a string, or a uint64 as number or bigint. */
export type TableKey = string | number | bigint;
/** A state-table key as decoded from the database: uint64 keys come back as bigint. */
export type DecodedTableKey = string | bigint;

const latin1 = (s: string): Buffer => Buffer.from(s, "latin1");

/** Key of the identity record; outside the four data prefixes. */
export const IDENTITY_KEY = latin1("/meta/identity");
export const RAFT_PREFIX = latin1("/raft/");
export const FIRST_INDEX_KEY = latin1("/raft/first_index");
export const LAST_INDEX_KEY = latin1("/raft/last_index");
export const HARD_STATE_KEY = latin1("/raft/hard_state");
export const CONF_STATE_KEY = latin1("/raft/conf_state");
export const UNCOMMIT_INDEX_KEY = latin1("/raft/uncommit_index");
export const SNAPSHOT_KEY = latin1("/raft/snapshot");
export const APPLIED_INDEX_KEY = latin1("/raft/applied_index");
export const ENTRY_PREFIX = latin1("/raft/entry/");
export const SM_PREFIX = latin1("/sm/");
export const SESSION_PREFIX = latin1("/session/");

/** The singleton /raft/ keys (everything under /raft/ except entries), by name. */
export const RAFT_KEYS: ReadonlyMap<string, Buffer> = new Map(
  [FIRST_INDEX_KEY, LAST_INDEX_KEY, HARD_STATE_KEY, CONF_STATE_KEY, UNCOMMIT_INDEX_KEY, SNAPSHOT_KEY, APPLIED_INDEX_KEY].map(
    (k) => [k.toString("latin1"), k],
  ),
);

/** Digits of the zero-padded index in an entry key (uint64 max has 20). */
export const ENTRY_INDEX_DIGITS = 20;
/** Longest table name. */
export const MAX_TABLE_NAME_LENGTH = 128;
/** Longest encoded state or session key, in bytes (prefix included). */
export const MAX_KEY_BYTES = 64 * 1024;
/** Largest value under /sm/ or /session/, in bytes. */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;

const TAG_UINT64 = 0x01;
const TAG_STRING = 0x02;
const SLASH = 0x2f;
const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UINT64_MAX = (1n << 64n) - 1n;
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

function invalid(message: string): StorageError {
  return new StorageError("InvalidArgument", message);
}

/** `/raft/entry/<index zero-padded to 20 digits>`. */
export function entryKey(index: number): Buffer {
  return latin1(`/raft/entry/${String(index).padStart(ENTRY_INDEX_DIGITS, "0")}`);
}

/** The index in an entry key, or undefined when the key is not exactly prefix + 20 digits. */
export function parseEntryKey(key: Uint8Array): number | undefined {
  if (key.length !== ENTRY_PREFIX.length + ENTRY_INDEX_DIGITS || !hasPrefix(key, ENTRY_PREFIX)) return undefined;
  const digits = Buffer.from(key.buffer, key.byteOffset + ENTRY_PREFIX.length, ENTRY_INDEX_DIGITS).toString("latin1");
  if (!/^[0-9]{20}$/.test(digits)) return undefined;
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Throws InvalidArgument unless `table` is a valid table name (letters, digits, `_`, `-`). */
export function checkTableName(table: string): void {
  if (typeof table !== "string" || table.length === 0 || table.length > MAX_TABLE_NAME_LENGTH || !TABLE_NAME.test(table)) {
    throw invalid(
      `invalid table name ${JSON.stringify(table)}: a table name is 1 to ${MAX_TABLE_NAME_LENGTH} ` +
        "letters, digits, '_' or '-', starting with a letter or '_' (never '/')",
    );
  }
}

/** Throws InvalidArgument for a string that UTF-8 cannot represent exactly. */
function checkWellFormed(s: string, what: string): void {
  if (LONE_SURROGATE.test(s)) throw invalid(`${what} ${JSON.stringify(s)} contains a lone surrogate (not valid Unicode)`);
}

/**
 * The tag byte and the body of an encoded table key (what follows `/sm/<table>/`). Byte order
 * of the result is key order; the node's in-memory tables key by it too.
 */
export function encodeKeyBody(key: TableKey): Buffer {
  if (typeof key === "string") {
    checkWellFormed(key, "table key");
    const body = Buffer.alloc(1 + Buffer.byteLength(key, "utf8"));
    body[0] = TAG_STRING;
    body.write(key, 1, "utf8");
    return body;
  }
  let big: bigint;
  if (typeof key === "number") {
    if (!Number.isSafeInteger(key) || key < 0) throw invalid(`table key ${key} is not a non-negative safe integer`);
    big = BigInt(key);
  } else if (typeof key === "bigint") {
    if (key < 0n || key > UINT64_MAX) throw invalid(`table key ${key} is outside the uint64 range`);
    big = key;
  } else {
    throw invalid(`table key of type ${typeof key}: expected a string, a number or a bigint`);
  }
  const body = Buffer.alloc(9);
  body[0] = TAG_UINT64;
  body.writeBigUInt64BE(big, 1);
  return body;
}

/** `/sm/<table>/` — every key of the table starts with it. */
export function tablePrefix(table: string): Buffer {
  checkTableName(table);
  return latin1(`/sm/${table}/`);
}

/** `/sm/<table>/<encoded key>`. Throws InvalidArgument for a bad table name or key. */
export function stateKey(table: string, key: TableKey): Buffer {
  const full = Buffer.concat([tablePrefix(table), encodeKeyBody(key)]);
  if (full.length > MAX_KEY_BYTES) throw invalid(`table key of ${full.length} bytes is longer than ${MAX_KEY_BYTES}`);
  return full;
}

/** Table and key of a /sm/ key; throws InvalidArgument when it is not one stateKey() builds. */
export function decodeStateKey(key: Uint8Array): { table: string; key: DecodedTableKey } {
  const bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (!hasPrefix(bytes, SM_PREFIX)) throw invalid(`${keyText(bytes)} is not a state key (no /sm/ prefix)`);
  const slash = bytes.indexOf(SLASH, SM_PREFIX.length);
  if (slash < 0) throw invalid(`${keyText(bytes)}: no '/' after the table name`);
  const table = bytes.toString("latin1", SM_PREFIX.length, slash);
  if (!TABLE_NAME.test(table) || table.length > MAX_TABLE_NAME_LENGTH) {
    throw invalid(`${keyText(bytes)}: invalid table name ${JSON.stringify(table)}`);
  }
  return { table, key: decodeKeyBody(bytes.subarray(slash + 1), keyText(bytes)) };
}

/** Inverse of encodeKeyBody; `where` names the key in errors. */
export function decodeKeyBody(body: Uint8Array, where = "table key"): DecodedTableKey {
  const b = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (b[0] === TAG_UINT64 && b.length === 9) return b.readBigUInt64BE(1);
  if (b[0] === TAG_STRING) {
    try {
      return utf8Strict.decode(b.subarray(1));
    } catch {
      throw invalid(`${where}: the string key is not valid UTF-8`);
    }
  }
  throw invalid(`${where}: unknown table key encoding`);
}

/** `/session/<client id as UTF-8>`. Throws InvalidArgument for an empty or ill-formed id. */
export function sessionKey(clientId: string): Buffer {
  if (typeof clientId !== "string" || clientId.length === 0) throw invalid("a client id is a non-empty string");
  checkWellFormed(clientId, "client id");
  const full = Buffer.concat([SESSION_PREFIX, Buffer.from(clientId, "utf8")]);
  if (full.length > MAX_KEY_BYTES) throw invalid(`client id of ${full.length} bytes is longer than ${MAX_KEY_BYTES}`);
  return full;
}

/** The client id of a /session/ key; throws InvalidArgument when it is not one. */
export function decodeSessionKey(key: Uint8Array): string {
  const bytes = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  if (!hasPrefix(bytes, SESSION_PREFIX) || bytes.length === SESSION_PREFIX.length) {
    throw invalid(`${keyText(bytes)} is not a session key`);
  }
  try {
    return utf8Strict.decode(bytes.subarray(SESSION_PREFIX.length));
  } catch {
    throw invalid(`${keyText(bytes)}: the client id is not valid UTF-8`);
  }
}

/**
 * Throws InvalidArgument unless `key` is a well-formed /sm/ or /session/ key (what a snapshot
 * may carry). Never accepts /raft/ or /meta/ keys.
 */
export function checkStateOrSessionKey(key: Uint8Array): void {
  if (key.length > MAX_KEY_BYTES) throw invalid(`key of ${key.length} bytes is longer than ${MAX_KEY_BYTES}`);
  if (hasPrefix(key, SM_PREFIX)) decodeStateKey(key);
  else if (hasPrefix(key, SESSION_PREFIX)) decodeSessionKey(key);
  else throw invalid(`${keyText(key)} is neither a /sm/ nor a /session/ key`);
}

/** Whether `key` starts with `prefix`. */
export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}

/** The smallest key above every key starting with `prefix` (prefixes here end in an ASCII byte < 0xff). */
export function prefixEnd(prefix: Uint8Array): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) {
      end[i]!++;
      return end.subarray(0, i + 1);
    }
  }
  throw new Error("prefixEnd: the prefix has no upper bound");
}

/** Byte-order comparison (RocksDB's default comparator). */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** A key for messages: printable ASCII as is, other bytes as \xNN; long keys are cut. */
export function keyText(key: Uint8Array): string {
  let out = "";
  const n = Math.min(key.length, 200);
  for (let i = 0; i < n; i++) {
    const b = key[i]!;
    out += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, "0")}`;
  }
  return key.length > n ? `${out}... (${key.length} bytes)` : out;
}
