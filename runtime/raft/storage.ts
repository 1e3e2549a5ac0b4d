// The storage contract of the core and MemoryStorage, its in-memory implementation.
//
// Storage is a read-only view of the durable log as the core sees it: the core never writes
// through it. The driver (runtime/node) persists what Ready hands it and only then calls
// advance(); after that, the Storage must return what was persisted. MemoryStorage is both
// the durable store of unit tests and the simulator and the model that the RocksDB storage
// is checked against by the storage contract suite.
//
// Contract (after etcd-io/raft's storage.go, in our words):
// - Any error other than Compacted / Unavailable / SnapshotTemporarilyUnavailable makes the
//   node inoperable: the core rethrows it and the driver must stop the node.
// - entries(lo, hi, maxBytes) returns the entries in [lo, hi), at least one entry when
//   lo < hi even if that entry alone exceeds maxBytes, and throws Compacted when lo is below
//   firstIndex() (or lo <= the snapshot index).
// - term(i) is valid for [firstIndex()-1, lastIndex()]; at firstIndex()-1 it is the term of
//   the snapshot. Below that it throws Compacted, above lastIndex() Unavailable.
// - firstIndex() is the snapshot index + 1; lastIndex() may be firstIndex()-1 (empty log).
//
// This file must not do I/O.

import { RaftError, RaftInvariantError } from "./errors.js";
import {
  type ConfState,
  type Entry,
  type HardState,
  type Snapshot,
  EMPTY_BYTES,
  EMPTY_HARD_STATE,
  entrySize,
} from "./types.js";

/** What a node starts from: its last hard state and membership. */
export interface RaftState {
  hardState: HardState;
  confState: ConfState;
}

/** The read-only view of durable Raft state the core works from. Methods are synchronous. */
export interface Storage {
  /** The hard state and configuration as persisted. Called once, when the node starts. */
  initialState(): RaftState;
  /**
   * Entries in [lo, hi). `maxBytes` limits the summed entrySize of the result, but at least
   * one entry is returned when lo < hi. Throws RaftError Compacted / Unavailable.
   */
  entries(lo: number, hi: number, maxBytes?: number): Entry[];
  /** Term of the entry at index i, for i in [firstIndex()-1, lastIndex()]. */
  term(i: number): number;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): number;
  /** Index of the last entry; firstIndex()-1 when the log holds no entry. */
  lastIndex(): number;
  /**
   * The most recent snapshot. May throw RaftError SnapshotTemporarilyUnavailable, in which
   * case the leader retries later. `requestIndex`/`to` tell the storage who asks for what,
   * so that a storage may build one lazily; MemoryStorage ignores them.
   */
  snapshot(requestIndex: number, to: number): Snapshot;
}

/** Keep a prefix of `ents` whose summed entrySize stays within maxBytes (at least one). */
export function limitSize(ents: Entry[], maxBytes: number | undefined): Entry[] {
  if (maxBytes === undefined || ents.length === 0) return ents;
  let size = entrySize(ents[0]!);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]!);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

function emptySnapshot(): Snapshot {
  return { data: EMPTY_BYTES, metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } } };
}

/**
 * The Storage of tests and the simulator: all state in memory.
 *
 * `ents[0]` is a dummy entry standing for the snapshot point: its index is the snapshot
 * index and its term the snapshot term. Invariant: ents[i].index === ents[0].index + i.
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { ...EMPTY_HARD_STATE };
  private confState: ConfState = { voters: [], learners: [] };
  private snap: Snapshot = emptySnapshot();
  private ents: Entry[] = [{ type: 0, term: 0, index: 0, data: EMPTY_BYTES, context: EMPTY_BYTES }];

  /** A storage for a node bootstrapped with the given voters (and learners). */
  static withPeers(voters: number[], learners: number[] = []): MemoryStorage {
    const s = new MemoryStorage();
    s.confState = { voters: [...voters].sort((a, b) => a - b), learners: [...learners].sort((a, b) => a - b) };
    return s;
  }

  initialState(): RaftState {
    return {
      hardState: { ...this.hardState },
      confState: { voters: [...this.confState.voters], learners: [...this.confState.learners] },
    };
  }

  /** Persist a hard state (the driver calls this with Ready.hardState). */
  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** Persist the configuration (after applyConfChange, or at bootstrap). */
  setConfState(cs: ConfState): void {
    this.confState = { voters: [...cs.voters], learners: [...cs.learners] };
  }

  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    const offset = this.ents[0]!.index;
    if (lo <= offset) {
      throw new RaftError("Compacted", `requested index ${lo} is compacted (snapshot index ${offset})`);
    }
    if (hi > this.lastIndex() + 1) {
      throw new RaftInvariantError(`entries' hi(${hi}) is out of bound lastIndex(${this.lastIndex()})`);
    }
    if (lo > hi) throw new RaftInvariantError(`invalid entries range lo(${lo}) > hi(${hi})`);
    if (lo === hi) return [];
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number {
    const offset = this.ents[0]!.index;
    if (i < offset) throw new RaftError("Compacted", `term of index ${i} is compacted (snapshot index ${offset})`);
    if (i - offset >= this.ents.length) {
      throw new RaftError("Unavailable", `term of index ${i} is unavailable (last index ${this.lastIndex()})`);
    }
    return this.ents[i - offset]!.term;
  }

  firstIndex(): number {
    return this.ents[0]!.index + 1;
  }

  lastIndex(): number {
    return this.ents[0]!.index + this.ents.length - 1;
  }

  snapshot(_requestIndex = 0, _to = 0): Snapshot {
    return this.snap;
  }

  /**
   * Replace the whole state with a snapshot (a follower installing a leader's snapshot).
   * Throws SnapshotOutOfDate when the snapshot is older than the current one.
   */
  applySnapshot(snap: Snapshot): void {
    const idx = this.snap.metadata.index;
    if (idx >= snap.metadata.index) {
      throw new RaftError("SnapshotOutOfDate", `snapshot at ${snap.metadata.index} is not newer than ${idx}`);
    }
    this.snap = snap;
    this.ents = [{ type: 0, term: snap.metadata.term, index: snap.metadata.index, data: EMPTY_BYTES, context: EMPTY_BYTES }];
    this.confState = {
      voters: [...snap.metadata.confState.voters],
      learners: [...snap.metadata.confState.learners],
    };
    if (this.hardState.commit < snap.metadata.index) this.hardState = { ...this.hardState, commit: snap.metadata.index };
    if (this.hardState.term < snap.metadata.term) this.hardState = { ...this.hardState, term: snap.metadata.term };
  }

  /**
   * Record a snapshot of the state machine at index i (i <= lastIndex) with configuration
   * cs and the given data. Entries are not removed: call compact() for that.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) {
      throw new RaftError("SnapshotOutOfDate", `snapshot at ${i} is not newer than ${this.snap.metadata.index}`);
    }
    const offset = this.ents[0]!.index;
    if (i > this.lastIndex()) {
      throw new RaftInvariantError(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    }
    // Compacted past the last snapshot without taking one: the term of i is gone.
    if (i < offset) throw new RaftError("Compacted", `snapshot at ${i} is compacted (compacted through ${offset})`);
    this.snap = {
      data,
      metadata: {
        index: i,
        term: this.ents[i - offset]!.term,
        confState: cs ? { voters: [...cs.voters], learners: [...cs.learners] } : this.snap.metadata.confState,
      },
    };
    return this.snap;
  }

  /**
   * Discard entries up to and including compactIndex. The caller must not compact past the
   * applied index. compactIndex <= the current snapshot point is a no-op error (Compacted).
   */
  compact(compactIndex: number): void {
    const offset = this.ents[0]!.index;
    if (compactIndex <= offset) throw new RaftError("Compacted", `compact ${compactIndex}: already compacted to ${offset}`);
    if (compactIndex > this.lastIndex()) {
      throw new RaftInvariantError(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const head = this.ents[i]!;
    this.ents = [{ type: 0, term: head.term, index: head.index, data: EMPTY_BYTES, context: EMPTY_BYTES }, ...this.ents.slice(i + 1)];
  }

  /**
   * Append entries (Ready.entries). Entries that overlap the log replace the conflicting
   * suffix; entries already compacted are skipped. A gap after lastIndex is an invariant error.
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0]!.index + entries.length - 1;
    if (last < first) return; // all compacted
    let ents = entries;
    if (first > ents[0]!.index) ents = ents.slice(first - ents[0]!.index);
    const offset = ents[0]!.index - this.ents[0]!.index;
    if (offset > this.ents.length) {
      throw new RaftInvariantError(
        `missing log entry [last: ${this.lastIndex()}, append at: ${ents[0]!.index}]`,
      );
    }
    this.ents = this.ents.slice(0, offset).concat(ents);
  }
}
