// RocksStorage: the durable storage of one Raft node, in one RocksDB database (DESIGN
// "Storage"; key layout in keys.ts, value formats in values.ts).
//
// The core reads its log through the synchronous Storage interface, while RocksDB's binding is
// asynchronous. So, as etcd pairs its MemoryStorage with a WAL, RocksStorage keeps an in-memory
// mirror of the durable log (LogMirror) plus the hard state, conf state, snapshot metadata and
// applied index, serves the core's reads from it, and writes through to RocksDB. Every write
// is ONE WriteBatch with sync: true, and the mirror changes only after that batch resolved, so
// the core never sees anything that is not on disk. Writes run one at a time, in call order
// (each is planned against the state the previous one left).
//
// What writes what (each line one synced batch):
// (persistReady skips the sync when the Ready says it need not: only the commit index
// changed; applyBatch may be asked to skip it: the log it applies is durable, and RocksDB's
// write-ahead log keeps batches whole and in order, so a crash loses a suffix of applied
// batches at most, which are applied again from the log.)
//   persistReady   entries (a conflicting suffix deleted), last_index, uncommit_index,
//                  hard_state; with a snapshot also snapshot, conf_state, first_index and
//                  the deletion of the log it replaces
//   applyBatch     /sm/ and /session/ effects + applied_index (+ conf_state)
//   createSnapshot snapshot (metadata only)
//   compact        deletion of entries below the index + first_index
//   installSnapshot all /sm/ and /session/ keys replaced + applied_index, snapshot, conf_state,
//                  first/last index, uncommit_index, hard_state, the log dropped
//
// A write that fails rejects with StorageError("Io"), leaves the mirror as it was, and puts
// the storage in a failed state: the on-disk outcome of that batch is unknown, so every later
// write is refused (StorageError "Failed") and the node must stop (etcd: a storage error makes
// the node inoperable). Reopening the directory re-reads the truth.
//
// Compaction keeps the entry AT the compaction point on disk as the boundary whose term answers
// term(firstIndex()-1) after a restart (unless the snapshot metadata already gives it).
//
// This file must not use timers, log to the console, or let a user key reach /raft/.

import { mkdir } from "node:fs/promises";
import {
  CodecError,
  decodeConfState,
  decodeEntry,
  decodeSnapshotMetadata,
  encodeConfState,
  encodeEntry,
  encodeHardState,
  encodeSnapshotMetadata,
} from "../codec/eraftpb.js";
import type { RaftState, Storage } from "../raft/storage.js";
import { EMPTY_BYTES, type ConfState, type Entry, type HardState, type Snapshot, type SnapshotMetadata } from "../raft/types.js";
import { StorageError, messageOf } from "./errors.js";
import {
  APPLIED_INDEX_KEY,
  CONF_STATE_KEY,
  FIRST_INDEX_KEY,
  HARD_STATE_KEY,
  LAST_INDEX_KEY,
  MAX_VALUE_BYTES,
  SESSION_PREFIX,
  SM_PREFIX,
  SNAPSHOT_KEY,
  UNCOMMIT_INDEX_KEY,
  decodeSessionKey,
  decodeStateKey,
  entryKey,
  hasPrefix,
  prefixEnd,
  sessionKey,
  stateKey,
  tablePrefix,
  type DecodedTableKey,
  type TableKey,
} from "./keys.js";
import { checkOptions, readIdentity } from "./identity.js";
import { corruptKey, loadRaftState, type LoadedState } from "./load.js";
import { LogMirror } from "./log-mirror.js";
import { ChainedBatch, RocksDb, type BatchOp, type RocksIterator } from "./rocksdb-binding.js";
import { DEFAULT_CHUNK_BYTES, decodeSnapshotStream, encodeSnapshotStream } from "./snapshot-stream.js";
import {
  decodeSession,
  decodeU64,
  encodeRange,
  encodeSession,
  encodeU64,
  seal,
  unseal,
  type Identity,
  type Session,
} from "./values.js";

/** Options of RocksStorage.open. */
export interface RocksStorageOptions {
  /** The cluster this node belongs to; a directory of another cluster is refused. */
  clusterId: string;
  /** This node's id; a directory of another node is refused. */
  nodeId: number;
  /**
   * Create and bootstrap the directory when it holds no data (default false: refuse). A
   * directory that already holds a node opens as it is (initialConfState is then ignored).
   */
  create?: boolean;
  /**
   * Membership to bootstrap a new directory with (the founding voters). Left out, a new node
   * starts with an empty configuration and waits for a snapshot from the leader (a joiner).
   */
  initialConfState?: ConfState;
  /**
   * Bootstrap the founding voters as a snapshot at index 1, term 1 instead of bare ConfState,
   * so that nodes joining later learn the membership from the leader's snapshot. The node
   * layer always sets it.
   */
  foundingSnapshot?: boolean;
  /** Fault injection for tests. Never set in production. */
  faults?: StorageFaults;
}

/** Which write a fault hook is called for. */
export type WriteKind = "bootstrap" | "persistReady" | "applyBatch" | "createSnapshot" | "compact" | "installSnapshot";

/** Test hooks: throwing (or rejecting) from beforeWrite makes that write fail as if RocksDB had. */
export interface StorageFaults {
  beforeWrite?(kind: WriteKind): void | Promise<void>;
}

/** What persistReady takes: the durable part of a Ready (a Ready itself fits). */
export interface PersistInput {
  entries: readonly Entry[];
  hardState?: HardState;
  /**
   * Whether to fsync (default true). Ready.mustSync is false only when nothing but the commit
   * index changed: losing that in a crash is harmless (the commit index is learned again), so
   * the node skips the fsync then, as etcd does.
   */
  mustSync?: boolean;
  /** Only the metadata is used; the data is installed through installSnapshot. */
  snapshot?: Snapshot;
}

/** One effect of applying committed entries: a state-table or session write. */
export type StateOp =
  | { type: "put"; table: string; key: TableKey; value: Uint8Array }
  | { type: "delete"; table: string; key: TableKey }
  | { type: "putSession"; clientId: string; session: Session }
  | { type: "deleteSession"; clientId: string };

/** One row of a state table. */
export interface TableRow {
  key: DecodedTableKey;
  value: Uint8Array;
}

/** A range of a table: keys k with gte <= k < lt, at most `limit` rows. */
export interface ScanOptions {
  gte?: TableKey;
  lt?: TableKey;
  limit?: number;
  reverse?: boolean;
}

/**
 * A captured, point-in-time view of the state machine, ready to be streamed. `metadata` says
 * what it holds: the applied index of the view, that entry's term and the configuration then.
 */
export interface SnapshotSource {
  readonly metadata: SnapshotMetadata;
  /** The stream (framing in snapshot-stream.ts). Single use; releases the view when done. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Release the view without streaming it (idempotent). */
  close(): Promise<void>;
}

function copyConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}

function copyMetadata(md: SnapshotMetadata): SnapshotMetadata {
  return { index: md.index, term: md.term, confState: copyConfState(md.confState) };
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

/** A plain Uint8Array view of a Buffer the binding returned. */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export class RocksStorage implements Storage {
  private log: LogMirror;
  private hs: HardState;
  private cs: ConfState;
  private snap: SnapshotMetadata;
  private applied: number;
  /** The tail of the write queue: every write starts after the previous one settled. */
  private queue: Promise<unknown> = Promise.resolve();
  private failure: StorageError | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly db: RocksDb,
    /** The data directory. */
    readonly dir: string,
    /** Who the directory belongs to. */
    readonly identity: Identity,
    state: LoadedState,
    private readonly faults: StorageFaults | undefined,
  ) {
    this.log = new LogMirror(state.boundary.index, state.boundary.term, state.entries);
    this.hs = state.hardState;
    this.cs = state.confState;
    this.snap = state.snapshot;
    this.applied = state.appliedIndex;
  }

  /**
   * Open the node's data directory: check who it belongs to, validate every /raft/ key and
   * load the mirror. With `create`, an empty (or missing) directory is bootstrapped first.
   * Throws StorageError: NotInitialized, ForeignCluster, WrongNode, NewerFormat, Corrupt, Io
   * (the message names the directory and the key at fault).
   */
  static async open(dir: string, options: RocksStorageOptions): Promise<RocksStorage> {
    checkOptions(options);
    if (options.create) {
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        throw new StorageError("Io", `data directory ${dir}: cannot create it: ${messageOf(err)}`, { dir }, { cause: err });
      }
    }
    let db: RocksDb;
    try {
      db = await RocksDb.open(dir, { createIfMissing: options.create === true });
    } catch (err) {
      const msg = messageOf(err);
      if (!options.create && /does not exist|No such file/i.test(msg)) {
        throw new StorageError("NotInitialized", `data directory ${dir} holds no Raft data (open it with create to bootstrap a node)`, { dir });
      }
      const hint = /lock/i.test(msg) ? " (is another process, or another RocksStorage, using this directory?)" : "";
      throw new StorageError("Io", `data directory ${dir}: RocksDB could not open it: ${msg}${hint}`, { dir }, { cause: err });
    }
    try {
      const identity = await readIdentity(db, dir, options);
      const state = await loadRaftState(db, dir);
      return new RocksStorage(db, dir, identity, state, options.faults);
    } catch (err) {
      await db.close().catch(() => undefined);
      throw err;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Storage (the core's synchronous, read-only view)

  initialState(): RaftState {
    return { hardState: { ...this.hs }, confState: copyConfState(this.cs) };
  }

  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    return this.log.entries(lo, hi, maxBytes);
  }

  term(i: number): number {
    return this.log.term(i);
  }

  firstIndex(): number {
    return this.log.firstIndex();
  }

  lastIndex(): number {
    return this.log.lastIndex();
  }

  /**
   * The latest snapshot's metadata with EMPTY data: the node streams the data separately
   * (openSnapshotSource). Never rewrites the metadata, whatever `requestIndex` says (seed flaw).
   */
  snapshot(_requestIndex = 0, _to = 0): Snapshot {
    return { data: EMPTY_BYTES, metadata: copyMetadata(this.snap) };
  }

  // ---------------------------------------------------------------------------------------
  // Other reads of the durable state (from the mirror)

  /** The persisted hard state. */
  hardState(): HardState {
    return { ...this.hs };
  }

  /** The persisted configuration. */
  confState(): ConfState {
    return copyConfState(this.cs);
  }

  /** The index whose effects the state tables hold. Invariant: appliedIndex() <= hardState().commit. */
  appliedIndex(): number {
    return this.applied;
  }

  /** Metadata of the latest snapshot (index 0 when there is none). */
  snapshotMetadata(): SnapshotMetadata {
    return copyMetadata(this.snap);
  }

  /** The uncommitted range (commit, last] as stored under /raft/uncommit_index. */
  uncommittedRange(): { commit: number; last: number } {
    return { commit: this.hs.commit, last: this.log.lastIndex() };
  }

  // ---------------------------------------------------------------------------------------
  // Writes

  /**
   * Persist the durable part of a Ready in ONE synced batch: entries (deleting the keys of a
   * conflicting suffix), last_index, uncommit_index, hard state; with a snapshot (metadata) also
   * snapshot, conf state, first index and the removal of the log it replaces (the log is kept
   * beyond the snapshot only when it already holds the snapshot's entry with the same term).
   * Resolves after the sync; only then does the mirror change. Nothing to write: no I/O.
   * Throws InvalidArgument for input that would break an invariant (a gap, a rewrite of a
   * committed entry, term/commit going backwards, a second vote in a term, commit beyond the
   * log) and SnapshotOutOfDate for a snapshot older than the stored one.
   */
  persistReady(rd: PersistInput): Promise<void> {
    return this.serialize(async () => {
      this.checkWritable();
      const ops: BatchOp[] = [];
      const cur = this.hs;
      let hs: HardState = { ...cur };
      if (rd.hardState !== undefined) {
        hs = { ...rd.hardState };
        if (hs.term < cur.term) this.invalid(`hard state term ${hs.term} is below the persisted term ${cur.term}`);
        if (hs.term === cur.term && cur.vote !== 0 && hs.vote !== cur.vote) {
          this.invalid(`hard state votes for ${hs.vote} in term ${hs.term}, which already has a vote for ${cur.vote}`);
        }
        if (hs.commit < cur.commit) this.invalid(`hard state commit ${hs.commit} is below the persisted commit ${cur.commit}`);
      }

      let log = this.log;
      let snap: SnapshotMetadata | undefined;
      const md = rd.snapshot?.metadata;
      if (md !== undefined && md.index > 0) {
        if (md.index < this.snap.index) {
          throw new StorageError("SnapshotOutOfDate", `snapshot at ${md.index} is older than the stored snapshot at ${this.snap.index}`, { dir: this.dir });
        }
        if (md.index === this.snap.index) {
          if (md.term !== this.snap.term) this.invalid(`snapshot at ${md.index} has term ${md.term}, the stored one ${this.snap.term}`);
        } else {
          snap = copyMetadata(md);
          log = this.replaceLogOps(snap, ops);
          hs = bumpToSnapshot(hs, snap);
          ops.push(this.put(SNAPSHOT_KEY, this.encode(() => encodeSnapshotMetadata(snap!))));
          ops.push(this.put(CONF_STATE_KEY, this.encode(() => encodeConfState(snap!.confState))));
        }
      }

      const plan = log.planAppend(rd.entries, cur.commit);
      if ("problem" in plan) this.invalid(plan.problem);
      for (const e of plan.entries) ops.push(this.put(entryKey(e.index), this.encode(() => encodeEntry(e))));
      for (let i = plan.truncatedFrom; i <= plan.truncatedTo; i++) ops.push({ type: "del", key: entryKey(i) });
      if (hs.commit > plan.newLast) this.invalid(`commit ${hs.commit} would be beyond the last index ${plan.newLast}`);

      const oldLast = this.log.lastIndex();
      if (plan.newLast !== oldLast || snap !== undefined) ops.push(this.put(LAST_INDEX_KEY, encodeU64(plan.newLast)));
      if (!sameHardState(hs, cur)) ops.push(this.put(HARD_STATE_KEY, this.encode(() => encodeHardState(hs))));
      if (hs.commit !== cur.commit || plan.newLast !== oldLast) ops.push(this.put(UNCOMMIT_INDEX_KEY, encodeRange(hs.commit, plan.newLast)));
      if (ops.length === 0) return;

      // An entry or a vote/term change must be synced whatever the caller says.
      const sync = rd.mustSync !== false || rd.entries.length > 0 || rd.snapshot !== undefined || hs.term !== cur.term || hs.vote !== cur.vote;
      await this.write("persistReady", ops, sync);
      if (snap !== undefined) {
        this.snap = snap;
        this.cs = copyConfState(snap.confState);
      }
      this.log = log;
      log.append(plan);
      this.hs = hs;
    });
  }

  /**
   * Apply the effects of committed entries through `appliedIndex`, in ONE synced batch with
   * /raft/applied_index (and /raft/conf_state when a conf change was applied), so a crash never
   * applies an entry twice or half. Requires applied < appliedIndex <= the persisted commit
   * (appliedIndex === applied with nothing to write is a no-op).
   */
  applyBatch(stateOps: readonly StateOp[], appliedIndex: number, confState?: ConfState, options: { sync?: boolean; commit?: number } = {}): Promise<void> {
    return this.serialize(async () => {
      this.checkWritable();
      // A Ready whose only durable change is a higher commit index may record it here, in the
      // same batch, instead of in a write of its own (term and vote are unchanged).
      let hs = this.hs;
      if (options.commit !== undefined && options.commit !== hs.commit) {
        if (!Number.isSafeInteger(options.commit) || options.commit < hs.commit) {
          this.invalid(`commit ${options.commit} is below the persisted commit ${hs.commit}`);
        }
        if (options.commit > this.log.lastIndex()) this.invalid(`commit ${options.commit} would be beyond the last index ${this.log.lastIndex()}`);
        hs = { ...hs, commit: options.commit };
      }
      if (!Number.isSafeInteger(appliedIndex) || appliedIndex < 0) this.invalid(`applied index ${appliedIndex} is not a safe integer`);
      if (appliedIndex < this.applied) this.invalid(`applied index ${appliedIndex} is below the persisted ${this.applied}`);
      if (appliedIndex === this.applied) {
        if (stateOps.length === 0 && confState === undefined) return;
        this.invalid(`index ${appliedIndex} is already applied: its effects would be applied twice`);
      }
      if (appliedIndex > hs.commit) this.invalid(`applied index ${appliedIndex} is beyond the persisted commit ${hs.commit}`);
      const ops: BatchOp[] = stateOps.map((op) => toBatchOp(op));
      ops.push(this.put(APPLIED_INDEX_KEY, encodeU64(appliedIndex)));
      if (confState !== undefined) ops.push(this.put(CONF_STATE_KEY, this.encode(() => encodeConfState(confState))));
      if (hs !== this.hs) {
        const hsNew = hs;
        ops.push(this.put(HARD_STATE_KEY, this.encode(() => encodeHardState(hsNew))));
        ops.push(this.put(UNCOMMIT_INDEX_KEY, encodeRange(hsNew.commit, this.log.lastIndex())));
      }
      await this.write("applyBatch", ops, options.sync ?? true);
      this.hs = hs;
      this.applied = appliedIndex;
      if (confState !== undefined) this.cs = copyConfState(confState);
    });
  }

  /**
   * Record a snapshot at `index` (metadata only; the data is read from RocksDB on demand):
   * index <= the applied index, term from the log. Throws SnapshotOutOfDate unless newer than
   * the stored snapshot; Compacted when the term of `index` is no longer known.
   */
  createSnapshot(index: number, confState: ConfState): Promise<SnapshotMetadata> {
    return this.serialize(async () => {
      this.checkWritable();
      if (index <= this.snap.index) {
        throw new StorageError("SnapshotOutOfDate", `snapshot at ${index} is not newer than the stored snapshot at ${this.snap.index}`, { dir: this.dir });
      }
      if (index > this.applied) this.invalid(`snapshot at ${index} is beyond the applied index ${this.applied}`);
      if (index < this.log.firstIndex() - 1) {
        throw new StorageError("Compacted", `snapshot at ${index}: the log is compacted to ${this.log.firstIndex() - 1}`, { dir: this.dir });
      }
      const md: SnapshotMetadata = { index, term: this.log.term(index), confState: copyConfState(confState) };
      await this.write("createSnapshot", [this.put(SNAPSHOT_KEY, this.encode(() => encodeSnapshotMetadata(md)))]);
      this.snap = md;
      return copyMetadata(md);
    });
  }

  /**
   * Discard the log up to and including `index` (index <= the snapshot index): the entry keys
   * below `index` are deleted and first_index becomes index + 1, in one synced batch; the entry
   * at `index` stays as the boundary. Throws Compacted when already compacted that far.
   */
  compact(index: number): Promise<void> {
    return this.serialize(async () => {
      this.checkWritable();
      const boundary = this.log.boundary().index;
      if (index <= boundary) {
        throw new StorageError("Compacted", `compact ${index}: already compacted to ${boundary}`, { dir: this.dir });
      }
      if (index > this.snap.index) this.invalid(`compact ${index} is beyond the snapshot index ${this.snap.index}`);
      const ops: BatchOp[] = [];
      for (let i = boundary; i < index; i++) ops.push({ type: "del", key: entryKey(i) });
      ops.push(this.put(FIRST_INDEX_KEY, encodeU64(index + 1)));
      await this.write("compact", ops);
      this.log.compact(index);
    });
  }

  /**
   * Install a snapshot received from the leader: read and validate the whole stream first
   * (framing, order, checksum, header = `metadata`), then, in ONE synced batch, replace every
   * /sm/ and /session/ key with the snapshot's and set applied index, snapshot metadata, conf
   * state, first/last index, uncommit range and hard state (commit and term at least the
   * snapshot's). The log is dropped, unless it already holds the snapshot's entry with the same
   * term, in which case the entries after it are kept. A corrupted or truncated stream rejects
   * with SnapshotCorrupt and changes nothing. Throws SnapshotOutOfDate for a snapshot at or
   * below the applied index or older than the stored snapshot.
   */
  async installSnapshot(metadata: SnapshotMetadata, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    this.checkWritable();
    this.checkInstallable(metadata);
    const batch = this.db.chainedBatch();
    const keys = new Set<string>();
    let md: SnapshotMetadata;
    try {
      // The header's metadata (validated against `metadata`, conf state sorted) is what we store.
      ({ metadata: md } = await decodeSnapshotStream(
        chunks,
        (key, value) => {
          batch.put(key, value);
          keys.add(Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString("latin1"));
        },
        metadata,
      ));
    } catch (err) {
      batch.clear();
      throw err;
    }
    return this.serialize(async () => {
      try {
        this.checkWritable();
        this.checkInstallable(md);
        // Remove the state keys the snapshot does not have, from a view taken now (no other
        // write runs until this one is done).
        for (const prefix of [SESSION_PREFIX, SM_PREFIX]) {
          const it = this.db.iterator({ gte: prefix, lt: prefixEnd(prefix), highWaterMark: 1024 * 1024 });
          try {
            for (let kv = await it.next(); kv !== undefined; kv = await it.next()) {
              if (!keys.has(kv[0].toString("latin1"))) batch.del(kv[0]);
            }
          } finally {
            await it.end();
          }
        }
        const ops: BatchOp[] = [];
        const log = md.index > this.snap.index ? this.replaceLogOps(md, ops) : this.log;
        const hs = bumpToSnapshot(this.hs, md);
        if (hs.commit > log.lastIndex()) this.invalid(`commit ${hs.commit} would be beyond the last index ${log.lastIndex()}`);
        ops.push(this.put(APPLIED_INDEX_KEY, encodeU64(md.index)));
        if (md.index > this.snap.index) ops.push(this.put(SNAPSHOT_KEY, this.encode(() => encodeSnapshotMetadata(md))));
        ops.push(this.put(CONF_STATE_KEY, this.encode(() => encodeConfState(md.confState))));
        ops.push(this.put(LAST_INDEX_KEY, encodeU64(log.lastIndex())));
        ops.push(this.put(HARD_STATE_KEY, this.encode(() => encodeHardState(hs))));
        ops.push(this.put(UNCOMMIT_INDEX_KEY, encodeRange(hs.commit, log.lastIndex())));
        for (const op of ops) {
          if (op.type === "put") batch.put(op.key, op.value);
          else batch.del(op.key);
        }
        await this.write("installSnapshot", batch);
        if (md.index > this.snap.index) this.snap = md;
        this.log = log;
        this.cs = copyConfState(md.confState);
        this.hs = hs;
        this.applied = md.index;
      } catch (err) {
        batch.clear();
        throw err;
      }
    });
  }

  // ---------------------------------------------------------------------------------------
  // Snapshot source

  /**
   * Capture a point-in-time view of the state machine for streaming. The RocksDB iterator (and
   * with it the view) is taken synchronously when this is called; the promise resolves once
   * the view's applied index, its term and the conf state have been read from that same view.
   * The chunks hold only /sm/ and /session/ keys (never /raft/), framed as snapshot-stream.ts
   * documents, in chunks of `chunkBytes` (default 1 MiB). Throws Unavailable when the view's
   * applied index is behind a snapshot whose data is not installed yet.
   */
  async openSnapshotSource(options: { chunkBytes?: number } = {}): Promise<SnapshotSource> {
    this.checkOpen();
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < 1) this.invalid(`chunkBytes must be a positive integer, got ${chunkBytes}`);
    const it = this.db.iterator({ gte: APPLIED_INDEX_KEY, lt: prefixEnd(SM_PREFIX), highWaterMark: Math.min(chunkBytes, 1024 * 1024) });
    let metadata: SnapshotMetadata;
    try {
      metadata = await this.readViewMetadata(it);
      it.seek(SESSION_PREFIX);
    } catch (err) {
      await it.end().catch(() => undefined);
      throw err;
    }
    let used = false;
    const records = async function* (): AsyncGenerator<readonly [Uint8Array, Uint8Array]> {
      for (let kv = await it.next(); kv !== undefined; kv = await it.next()) {
        if (hasPrefix(kv[0], SESSION_PREFIX) || hasPrefix(kv[0], SM_PREFIX)) yield kv;
      }
    };
    const dir = this.dir;
    const self = this;
    return {
      metadata: copyMetadata(metadata),
      chunks: () => {
        if (used) throw new StorageError("InvalidArgument", "a snapshot source can be streamed once", { dir });
        used = true;
        return (async function* () {
          try {
            yield* encodeSnapshotStream(metadata, records(), chunkBytes);
          } catch (err) {
            if (err instanceof StorageError) throw err;
            if (self.closing !== undefined) throw self.closedError();
            throw new StorageError("Io", `data directory ${dir}: reading the snapshot view failed: ${messageOf(err)}`, { dir }, { cause: err });
          } finally {
            await it.end().catch(() => undefined);
          }
        })();
      },
      close: () => it.end().catch(() => undefined),
    };
  }

  /** Reads applied index, its term and the conf state from the iterator's view. */
  private async readViewMetadata(it: RocksIterator): Promise<SnapshotMetadata> {
    const read = async (key: Buffer): Promise<Buffer | undefined> => {
      it.seek(key);
      const kv = await it.next();
      return kv !== undefined && kv[0].equals(key) ? kv[1] : undefined;
    };
    const sealed = async <T>(key: Buffer, decode: (p: Uint8Array) => T, v?: Buffer): Promise<T> => {
      v ??= await read(key);
      if (v === undefined) throw corruptKey(this.dir, key, "is missing");
      const opened = unseal(key, v);
      if ("problem" in opened) throw corruptKey(this.dir, key, opened.problem);
      try {
        return decode(opened.payload);
      } catch (err) {
        if (err instanceof CodecError) throw corruptKey(this.dir, key, `does not decode: ${err.message}`);
        throw err;
      }
    };
    const applied = await sealed(APPLIED_INDEX_KEY, (p) => {
      const d = decodeU64(p);
      if ("problem" in d) throw corruptKey(this.dir, APPLIED_INDEX_KEY, d.problem);
      return d.value;
    });
    const confState = await sealed(CONF_STATE_KEY, decodeConfState);
    const snap = await sealed(SNAPSHOT_KEY, decodeSnapshotMetadata);
    if (applied < snap.index) {
      throw new StorageError(
        "Unavailable",
        `data directory ${this.dir}: the applied index ${applied} is behind the snapshot at ${snap.index}, ` +
          "whose data is not installed yet",
        { dir: this.dir },
      );
    }
    let term = snap.index === applied ? snap.term : 0;
    if (applied > snap.index) {
      const key = entryKey(applied);
      const raw = await read(key);
      if (raw === undefined) throw corruptKey(this.dir, key, `is missing: the entry of the applied index ${applied}`);
      term = (await sealed(key, decodeEntry, raw)).term;
    }
    return { index: applied, term, confState };
  }

  // ---------------------------------------------------------------------------------------
  // State machine reads

  /** The value of `key` in `table`, or undefined. */
  async get(table: string, key: TableKey): Promise<Uint8Array | undefined> {
    const k = stateKey(table, key);
    this.checkOpen();
    const v = await this.read(() => this.db.get(k));
    return v === undefined ? undefined : plain(v);
  }

  /** The exactly-once record of a client, or undefined. */
  async getSession(clientId: string): Promise<Session | undefined> {
    const k = sessionKey(clientId);
    this.checkOpen();
    const v = await this.read(() => this.db.get(k));
    if (v === undefined) return undefined;
    const s = decodeSession(v);
    if (s === undefined) throw corruptKey(this.dir, k, "is not a session record");
    return s;
  }

  /**
   * The rows of `table` in key order (reverse: descending), within `options`' range. The view
   * is a point-in-time one taken when iteration starts. Stop early with `break`.
   */
  async *scan(table: string, options: ScanOptions = {}): AsyncGenerator<TableRow, void, undefined> {
    const prefix = tablePrefix(table);
    const gte = options.gte !== undefined ? stateKey(table, options.gte) : prefix;
    const lt = options.lt !== undefined ? stateKey(table, options.lt) : prefixEnd(prefix);
    const limit = options.limit ?? Infinity;
    this.checkOpen();
    if (limit <= 0) return;
    const it = this.db.iterator({ gte, lt, reverse: options.reverse === true });
    try {
      let n = 0;
      for (let kv = await this.read(() => it.next()); kv !== undefined; kv = await this.read(() => it.next())) {
        yield { key: decodeStateKey(kv[0]).key, value: plain(kv[1]) };
        if (++n >= limit) break;
      }
    } finally {
      await it.end().catch(() => undefined);
    }
  }

  /** Every session record, by client id order (point-in-time view). */
  async *scanSessions(): AsyncGenerator<{ clientId: string; session: Session }, void, undefined> {
    this.checkOpen();
    const it = this.db.iterator({ gte: SESSION_PREFIX, lt: prefixEnd(SESSION_PREFIX) });
    try {
      for (let kv = await this.read(() => it.next()); kv !== undefined; kv = await this.read(() => it.next())) {
        const s = decodeSession(kv[1]);
        if (s === undefined) throw corruptKey(this.dir, kv[0], "is not a session record");
        yield { clientId: decodeSessionKey(kv[0]), session: s };
      }
    } finally {
      await it.end().catch(() => undefined);
    }
  }

  /** Close the database after the queued writes; open snapshot sources and scans end. */
  close(): Promise<void> {
    if (this.closing === undefined) {
      this.closing = (async () => {
        await this.queue;
        this.closed = true;
        await this.db.close();
      })();
    }
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------
  // Internals

  private serialize<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closing !== undefined) return Promise.reject(this.closedError());
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private closedError(): StorageError {
    return new StorageError("Closed", `data directory ${this.dir}: the storage is closed`, { dir: this.dir });
  }

  private checkOpen(): void {
    if (this.closed || this.closing !== undefined) throw this.closedError();
  }

  private checkWritable(): void {
    this.checkOpen();
    if (this.failure !== undefined) {
      throw new StorageError(
        "Failed",
        `data directory ${this.dir}: an earlier write failed (${this.failure.message}); no further writes until it is reopened`,
        { dir: this.dir },
        { cause: this.failure },
      );
    }
  }

  private checkInstallable(md: SnapshotMetadata): void {
    if (md.index <= this.applied) {
      throw new StorageError("SnapshotOutOfDate", `snapshot at ${md.index} is not beyond the applied index ${this.applied}`, { dir: this.dir });
    }
    if (md.index < this.snap.index) {
      throw new StorageError("SnapshotOutOfDate", `snapshot at ${md.index} is older than the stored snapshot at ${this.snap.index}`, { dir: this.dir });
    }
    if (md.index === this.snap.index && md.term !== this.snap.term) {
      this.invalid(`snapshot at ${md.index} has term ${md.term}, the stored one ${this.snap.term}`);
    }
  }

  private invalid(message: string): never {
    throw new StorageError("InvalidArgument", `data directory ${this.dir}: ${message}`, { dir: this.dir });
  }

  private async read<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof StorageError) throw err;
      if (this.closed || this.closing !== undefined) throw this.closedError();
      throw new StorageError("Io", `data directory ${this.dir}: read failed: ${messageOf(err)}`, { dir: this.dir }, { cause: err });
    }
  }

  /** A put of a sealed /raft/ value. */
  private put(key: Buffer, payload: Uint8Array): BatchOp {
    return { type: "put", key, value: seal(key, payload) };
  }

  /** Runs a codec encode, turning its CodecError (bad input) into InvalidArgument. */
  private encode(fn: () => Uint8Array): Uint8Array {
    try {
      return fn();
    } catch (err) {
      if (err instanceof CodecError) this.invalid(`cannot encode: ${err.message}`);
      throw err;
    }
  }

  /**
   * Adds to `ops` the removal of the log a snapshot replaces and the new first_index, and
   * returns the log as it will be: the entries after the snapshot survive only when the log
   * holds the snapshot's entry with the same term (Raft's log matching); otherwise the log is
   * dropped. Commit never exceeds the kept log (checked by the callers).
   */
  private replaceLogOps(md: SnapshotMetadata, ops: BatchOp[]): LogMirror {
    const { index: boundary } = this.log.boundary();
    const last = this.log.lastIndex();
    let kept: Entry[] = [];
    let deleteTo = last;
    if (this.log.matchTerm(md.index, md.term)) {
      kept = md.index < last ? this.log.entries(md.index + 1, last + 1) : [];
      deleteTo = md.index;
    } else if (this.hs.commit > md.index) {
      this.invalid(`snapshot at ${md.index} (term ${md.term}) does not match the log, whose commit is ${this.hs.commit}`);
    }
    for (let i = boundary; i <= deleteTo; i++) ops.push({ type: "del", key: entryKey(i) });
    ops.push(this.put(FIRST_INDEX_KEY, encodeU64(md.index + 1)));
    return new LogMirror(md.index, md.term, kept);
  }

  private async write(kind: WriteKind, ops: BatchOp[] | ChainedBatch, sync = true): Promise<void> {
    try {
      await this.faults?.beforeWrite?.(kind);
      if (ops instanceof ChainedBatch) await ops.write({ sync });
      else await this.db.write(ops, { sync });
    } catch (err) {
      const e = new StorageError("Io", `data directory ${this.dir}: ${kind} write failed: ${messageOf(err)}`, { dir: this.dir }, { cause: err });
      this.failure = e;
      throw e;
    }
  }
}

/** Commit and term raised to at least the snapshot's (a newer term clears the vote). */
function bumpToSnapshot(hs: HardState, md: SnapshotMetadata): HardState {
  const out = { ...hs };
  if (out.commit < md.index) out.commit = md.index;
  if (out.term < md.term) {
    out.term = md.term;
    out.vote = 0;
  }
  return out;
}

function toBatchOp(op: StateOp): BatchOp {
  switch (op.type) {
    case "put":
      checkValue(op.value);
      return { type: "put", key: stateKey(op.table, op.key), value: op.value };
    case "delete":
      return { type: "del", key: stateKey(op.table, op.key) };
    case "putSession":
      if (!Number.isSafeInteger(op.session.lastSequence) || op.session.lastSequence < 0) {
        throw new StorageError("InvalidArgument", `session sequence ${op.session.lastSequence} is not a non-negative safe integer`);
      }
      checkValue(op.session.reply);
      return { type: "put", key: sessionKey(op.clientId), value: encodeSession(op.session) };
    case "deleteSession":
      return { type: "del", key: sessionKey(op.clientId) };
    default:
      throw new StorageError("InvalidArgument", `unknown state op ${JSON.stringify((op as { type?: unknown }).type)}`);
  }
}

function checkValue(v: Uint8Array): void {
  if (!(v instanceof Uint8Array)) throw new StorageError("InvalidArgument", `a value must be a Uint8Array, got ${typeof v}`);
  if (v.length > MAX_VALUE_BYTES) throw new StorageError("InvalidArgument", `a value of ${v.length} bytes is above ${MAX_VALUE_BYTES}`);
}
