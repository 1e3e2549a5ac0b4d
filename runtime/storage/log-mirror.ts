// LogMirror: the in-memory copy of the durable Raft log that RocksStorage serves the core's
// synchronous reads from (entries, term, firstIndex, lastIndex), as etcd pairs its
// MemoryStorage with the WAL. It holds exactly what RocksDB holds under /raft/entry/, from the
// first index to the last, which stays bounded because the log is compacted after snapshots.
//
// The log is `boundary` (index and term of the entry just before the first one: the snapshot
// or compaction point) followed by `ents`. Invariant: ents[i].index === boundaryIndex + 1 + i,
// and terms never decrease along the log.
//
// Reads follow the core's Storage contract (runtime/raft/storage.ts): Compacted at or below
// the boundary, Unavailable above the last index for term(). The mutators are called by
// RocksStorage only after the RocksDB batch that made the same change has been synced, so the
// mirror never shows anything that is not durable. Validation of new entries happens in
// planAppend, before any write, so a mutator never fails halfway.
//
// This file must not do I/O.

import { RaftError, RaftInvariantError } from "../raft/errors.js";
import { limitSize } from "../raft/storage.js";
import type { Entry } from "../raft/types.js";

/** What appending a run of entries does to the log (computed before writing). */
export interface AppendPlan {
  /** The entries to write (the compacted prefix of the input already dropped). */
  entries: Entry[];
  /** Index of entries[0] (undefined when nothing is written). */
  from: number | undefined;
  /** The last index after the append. */
  newLast: number;
  /** Indexes (newLast, oldLast] whose keys must be deleted (a conflicting suffix). */
  truncatedFrom: number;
  truncatedTo: number;
}

export class LogMirror {
  private boundaryIndex: number;
  private boundaryTerm: number;
  private ents: Entry[];

  /** `entries` must start at boundaryIndex + 1 and be contiguous (checked by the loader). */
  constructor(boundaryIndex: number, boundaryTerm: number, entries: Entry[]) {
    this.boundaryIndex = boundaryIndex;
    this.boundaryTerm = boundaryTerm;
    this.ents = entries;
  }

  /** Index of the first entry (boundary + 1). */
  firstIndex(): number {
    return this.boundaryIndex + 1;
  }

  /** Index of the last entry; firstIndex()-1 for an empty log. */
  lastIndex(): number {
    return this.boundaryIndex + this.ents.length;
  }

  /** The boundary: index and term just before the first entry. */
  boundary(): { index: number; term: number } {
    return { index: this.boundaryIndex, term: this.boundaryTerm };
  }

  /** Entries in [lo, hi), limited by maxBytes (at least one), per the Storage contract. */
  entries(lo: number, hi: number, maxBytes?: number): Entry[] {
    if (lo <= this.boundaryIndex) {
      throw new RaftError("Compacted", `requested index ${lo} is compacted (first index ${this.firstIndex()})`);
    }
    if (hi > this.lastIndex() + 1) {
      throw new RaftInvariantError(`entries' hi(${hi}) is out of bound lastIndex(${this.lastIndex()})`);
    }
    if (lo > hi) throw new RaftInvariantError(`invalid entries range lo(${lo}) > hi(${hi})`);
    if (lo === hi) return [];
    const off = this.boundaryIndex + 1;
    return limitSize(this.ents.slice(lo - off, hi - off), maxBytes);
  }

  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. */
  term(i: number): number {
    if (i < this.boundaryIndex) {
      throw new RaftError("Compacted", `term of index ${i} is compacted (first index ${this.firstIndex()})`);
    }
    if (i > this.lastIndex()) {
      throw new RaftError("Unavailable", `term of index ${i} is unavailable (last index ${this.lastIndex()})`);
    }
    if (i === this.boundaryIndex) return this.boundaryTerm;
    return this.ents[i - this.boundaryIndex - 1]!.term;
  }

  /**
   * Checks `entries` against the log and says what appending them would do, or returns a
   * problem (a gap, non-contiguous indexes, decreasing terms, a rewrite at or below
   * `commit` with a different term). Entries at or below the boundary are skipped.
   */
  planAppend(input: readonly Entry[], commit: number): AppendPlan | { problem: string } {
    const last = this.lastIndex();
    let ents = input.filter((e) => e.index > this.boundaryIndex);
    if (ents.length === 0) return { entries: [], from: undefined, newLast: last, truncatedFrom: last + 1, truncatedTo: last };
    for (let i = 0; i < ents.length; i++) {
      const e = ents[i]!;
      if (!Number.isSafeInteger(e.index) || !Number.isSafeInteger(e.term) || e.term < 0) {
        return { problem: `entry ${i} has index ${e.index} and term ${e.term}: not safe integers` };
      }
      if (i > 0 && e.index !== ents[i - 1]!.index + 1) {
        return { problem: `entries are not contiguous: ${ents[i - 1]!.index} is followed by ${e.index}` };
      }
      if (i > 0 && e.term < ents[i - 1]!.term) {
        return { problem: `entry ${e.index} has term ${e.term}, below the term ${ents[i - 1]!.term} of the entry before it` };
      }
    }
    const from = ents[0]!.index;
    if (from > last + 1) return { problem: `missing log entries: the log ends at ${last}, the new entries start at ${from}` };
    // Entries that are already in the log with the same term are rewrites of committed or
    // persisted entries; a different term at or below commit would rewrite history.
    for (const e of ents) {
      if (e.index > Math.min(commit, last)) break;
      const have = this.term(e.index);
      if (have !== e.term) {
        return { problem: `entry ${e.index} (term ${e.term}) conflicts with the committed entry of term ${have} (commit ${commit})` };
      }
    }
    const prevTerm = this.term(from - 1);
    if (ents[0]!.term < prevTerm) {
      return { problem: `entry ${from} has term ${ents[0]!.term}, below the term ${prevTerm} of entry ${from - 1}` };
    }
    ents = ents.map((e) => ({ ...e }));
    const newLast = ents[ents.length - 1]!.index;
    return { entries: ents, from, newLast, truncatedFrom: newLast + 1, truncatedTo: last };
  }

  /** Apply a plan from planAppend (after the write succeeded). */
  append(plan: AppendPlan): void {
    if (plan.from === undefined) return;
    const keep = plan.from - this.boundaryIndex - 1;
    this.ents.length = keep;
    for (const e of plan.entries) this.ents.push(e);
  }

  /** Drop entries up to and including `index`; `index` becomes the boundary. */
  compact(index: number): void {
    const term = this.term(index);
    this.ents = this.ents.slice(index - this.boundaryIndex);
    this.boundaryIndex = index;
    this.boundaryTerm = term;
  }

  /** Drop the whole log: it now starts after (index, term). */
  reset(index: number, term: number): void {
    this.ents = [];
    this.boundaryIndex = index;
    this.boundaryTerm = term;
  }

  /** Whether the log holds entry `index` with `term` (or it is the boundary with that term). */
  matchTerm(index: number, term: number): boolean {
    if (index < this.boundaryIndex || index > this.lastIndex()) return false;
    return this.term(index) === term;
  }
}
