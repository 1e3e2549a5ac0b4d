// The public surface of runtime/storage, by explicit named exports (no `export *`).
//
// RocksStorage is the durable storage of one Raft node: the core's synchronous Storage over an
// in-memory mirror of the log, synced RocksDB batches for every write, state tables and
// sessions, and streamed snapshots (a point-in-time source and an atomic sink).
//
// This file must not contain logic: it only re-exports.

// ---- for applications and the node driver ----
export { RocksStorage } from "./rocks-storage.js";
export type {
  PersistInput,
  RocksStorageOptions,
  ScanOptions,
  SnapshotSource,
  StateOp,
  StorageFaults,
  TableRow,
  WriteKind,
} from "./rocks-storage.js";
export { StorageError, isStorageError } from "./errors.js";
export type { StorageErrorCode } from "./errors.js";
export type { DecodedTableKey, TableKey } from "./keys.js";
export type { Identity, Session } from "./values.js";

// ---- for tools, tests and the transport (key layout, value and stream formats) ----
export {
  APPLIED_INDEX_KEY,
  CONF_STATE_KEY,
  ENTRY_PREFIX,
  FIRST_INDEX_KEY,
  HARD_STATE_KEY,
  IDENTITY_KEY,
  LAST_INDEX_KEY,
  MAX_KEY_BYTES,
  MAX_VALUE_BYTES,
  RAFT_PREFIX,
  SESSION_PREFIX,
  SM_PREFIX,
  SNAPSHOT_KEY,
  UNCOMMIT_INDEX_KEY,
  checkTableName,
  decodeKeyBody,
  decodeSessionKey,
  decodeStateKey,
  encodeKeyBody,
  entryKey,
  keyText,
  parseEntryKey,
  sessionKey,
  stateKey,
  tablePrefix,
} from "./keys.js";
export { FORMAT_VERSION, decodeSession as decodeStoredSession, encodeSession as encodeStoredSession } from "./values.js";
export {
  DEFAULT_CHUNK_BYTES,
  SNAPSHOT_MAGIC,
  SNAPSHOT_STREAM_VERSION,
  decodeSnapshotStream,
  encodeSnapshotStream,
} from "./snapshot-stream.js";
export type { SnapshotRecord } from "./snapshot-stream.js";
