// Errors of the durable storage (runtime/storage), one class with a string-union code
// (STYLE 7.6). Callers branch on `code`; the message always says what is wrong and where: the
// data directory and, when one key is at fault, that key.
//
// Which kind each code is:
// - expected outcomes at the API: Compacted, SnapshotOutOfDate, Unavailable;
// - bad input from outside: SnapshotCorrupt (a snapshot stream that fails its framing or
//   checksum), InvalidArgument (a table name, key or value the layout cannot hold, or a call
//   that would break a storage invariant; for the Ready/apply paths this is a bug upstream);
// - a directory the node must not run on (it refuses to start with a clear message):
//   NotInitialized, ForeignCluster, WrongNode, NewerFormat, Corrupt;
// - environment failures: Io (RocksDB failed: open, lock, read, write, fsync), Failed (an
//   earlier write failed, so the on-disk state is unknown: every later write is refused until
//   the directory is reopened), Closed.
//
// This file must not import the RocksDB binding or do I/O: it only describes failures.

/** Why a storage call failed. */
export type StorageErrorCode =
  /** The directory holds no Raft data and `create` was not given. */
  | "NotInitialized"
  /** The directory belongs to another cluster (its /meta/identity names another cluster id). */
  | "ForeignCluster"
  /** The directory belongs to another node of this cluster. */
  | "WrongNode"
  /** The directory was written by a newer version of the storage format. */
  | "NewerFormat"
  /** A key is missing, does not decode, fails its checksum, or disagrees with another key. */
  | "Corrupt"
  /** A bad argument: an invalid table name or key, a log gap, a commit beyond the log, ... */
  | "InvalidArgument"
  /** The requested index is at or below the compaction point. */
  | "Compacted"
  /** The requested index or snapshot is not available (yet). */
  | "Unavailable"
  /** A snapshot that is not newer than the one already stored or applied. */
  | "SnapshotOutOfDate"
  /** A snapshot stream with bad framing, a bad checksum, or truncated. Nothing was changed. */
  | "SnapshotCorrupt"
  /** RocksDB reported an error (open, lock, read, write or sync). */
  | "Io"
  /** An earlier write failed; the storage refuses further writes until it is reopened. */
  | "Failed"
  /** The storage was closed. */
  | "Closed";

export class StorageError extends Error {
  override readonly name = "StorageError";
  constructor(
    readonly code: StorageErrorCode,
    message: string,
    /** Where: the data directory and the key at fault, when there is one. */
    readonly where: { readonly dir?: string; readonly key?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Whether `err` is a StorageError (with the given code). */
export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}

/** The message of an unknown thrown value, for wrapping it as a cause. */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
