// RaftLog: the node's view of the whole log, made of the stable part (Storage) and the
// unstable tail (Unstable), plus the commit and apply positions.
//
// Invariant: applied <= applying <= committed, and committed <= lastIndex().
// `applying` is the highest index handed out to the application in a Ready; `applied` the
// highest index the application has reported as applied (through advance()).
//
// This file must not do I/O: it reads Storage, which is a synchronous in-memory view.

import { RaftError, RaftInvariantError, isRaftError } from "./errors.js";
import type { Logger } from "./logger.js";
import { Unstable } from "./log-unstable.js";
import { type Storage, limitSize } from "./storage.js";
import type { Entry, Snapshot } from "./types.js";

/** No limit on a byte size. */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

export class RaftLog {
  /** Everything persisted since the last snapshot. */
  readonly storage: Storage;
  /** Entries (and a snapshot) not yet persisted. */
  readonly unstable: Unstable;
  /** Highest index known to be committed on a quorum. Only ever grows. */
  committed: number;
  /** Highest index handed to the application for applying (in a Ready). */
  applying: number;
  /** Highest index the application has applied. */
  applied: number;
  /** Upper bound on the summed size of committed entries in one Ready. */
  readonly maxApplyingEntsSize: number;

  constructor(storage: Storage, logger: Logger, maxApplyingEntsSize: number = NO_LIMIT) {
    this.storage = storage;
    const firstIndex = storage.firstIndex();
    const lastIndex = storage.lastIndex();
    this.unstable = new Unstable(lastIndex + 1, logger);
    this.committed = firstIndex - 1;
    this.applying = firstIndex - 1;
    this.applied = firstIndex - 1;
    this.maxApplyingEntsSize = maxApplyingEntsSize;
  }

  toString(): string {
    return `committed=${this.committed}, applied=${this.applied}, applying=${this.applying}, unstable.offset=${this.unstable.offset}, unstable.offsetInProgress=${this.unstable.offsetInProgress}, len(unstable.entries)=${this.unstable.entries.length}`;
  }

  /**
   * Append `ents` after the entry (index, logTerm) if the log has that entry (the MsgAppend
   * consistency check, Raft §5.3). Returns the index of the last new entry, or undefined when
   * the check fails. Conflicting entries are truncated; the commit index moves to
   * min(committed, last new index).
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNewIndex = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new RaftInvariantError(
          `entry ${ci} conflict with committed entry [committed(${this.committed})]. Was the raft log corrupted, truncated, or lost?`,
        );
      }
      const offset = index + 1;
      if (ci - offset > ents.length) {
        throw new RaftInvariantError(`index ${ci - offset} is out of range [${ents.length}]`);
      }
      this.append(ents.slice(ci - offset));
    }
    this.commitTo(Math.min(committed, lastNewIndex));
    return lastNewIndex;
  }

  /** Append entries to the unstable tail, truncating a conflicting suffix. Returns lastIndex. */
  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0]!.index - 1;
    if (after < this.committed) {
      throw new RaftInvariantError(`after(${after}) is out of range [committed(${this.committed})]`);
    }
    if (after > this.lastIndex()) {
      throw new RaftInvariantError(`append leaves a gap: after(${after}) > lastIndex(${this.lastIndex()})`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that conflicts with the log (same index, other
   * term), or of the first new entry when all present ones match; 0 when nothing is new.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * The largest index <= `index` whose term is <= `term`, with that term (fast log
   * backtracking, §5.3 "the leader can decrement nextIndex to bypass all of the conflicting
   * entries in that term"). Returns [index, term]; term 0 when it could not be read.
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (; index > 0; index--) {
      const t = this.termOrUndefined(index);
      if (t === undefined) return [index, 0];
      if (t <= term) return [index, t];
    }
    return [0, 0];
  }

  /** Unstable entries not yet handed out for persistence. */
  nextUnstableEnts(): Entry[] {
    return this.unstable.nextEntries();
  }

  hasNextUnstableEnts(): boolean {
    return this.unstable.nextEntries().length > 0;
  }

  /** Whether some unstable entries exist, handed out or not. */
  hasNextOrInProgressUnstableEnts(): boolean {
    return this.unstable.entries.length > 0;
  }

  nextUnstableSnapshot(): Snapshot | undefined {
    return this.unstable.nextSnapshot();
  }

  hasNextUnstableSnapshot(): boolean {
    return this.unstable.nextSnapshot() !== undefined;
  }

  /**
   * Committed entries not yet handed out for applying, at most maxApplyingEntsSize bytes
   * (at least one). With allowUnstable, entries that are committed but still being persisted
   * locally may be returned (the driver persists a Ready before applying it).
   */
  nextCommittedEnts(allowUnstable: boolean): Entry[] {
    if (this.hasNextOrInProgressSnapshot()) return []; // apply the snapshot first
    const lo = this.applying + 1;
    const hi = this.maxAppliableIndex(allowUnstable) + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxApplyingEntsSize);
  }

  hasNextCommittedEnts(allowUnstable: boolean): boolean {
    if (this.hasNextOrInProgressSnapshot()) return false;
    return this.applying + 1 <= this.maxAppliableIndex(allowUnstable);
  }

  private maxAppliableIndex(allowUnstable: boolean): number {
    let hi = this.committed;
    if (!allowUnstable) hi = Math.min(hi, this.unstable.offset - 1);
    return hi;
  }

  hasNextOrInProgressSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** The snapshot to send to a follower: the unstable one or the storage's. */
  snapshot(to = 0): Snapshot {
    if (this.unstable.snapshot) return this.unstable.snapshot;
    return this.storage.snapshot(this.applied, to);
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** Move the commit index to `tocommit`. Never decreases; beyond lastIndex is an invariant error. */
  commitTo(tocommit: number): void {
    if (this.committed < tocommit) {
      if (this.lastIndex() < tocommit) {
        throw new RaftInvariantError(
          `tocommit(${tocommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`,
        );
      }
      this.committed = tocommit;
    }
  }

  /** The application has applied everything through `i`. */
  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new RaftInvariantError(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    }
    this.applied = i;
    this.applying = Math.max(this.applying, i);
  }

  /** Entries through `i` have been handed out for applying. */
  acceptApplying(i: number): void {
    if (this.committed < i) {
      throw new RaftInvariantError(`applying(${i}) is out of range [prevApplying(${this.applying}), committed(${this.committed})]`);
    }
    this.applying = i;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  acceptUnstable(): void {
    this.unstable.acceptInProgress();
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /**
   * The term of entry i. Valid for [firstIndex()-1, lastIndex()]; throws RaftError
   * Compacted / Unavailable outside (as Storage does).
   */
  term(i: number): number {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    // The valid range is [dummy index, last index]; the unstable snapshot has been checked.
    const dummyIndex = this.firstIndex() - 1;
    if (i < dummyIndex) throw new RaftError("Compacted", `term of index ${i} is compacted (first index ${dummyIndex + 1})`);
    if (i > this.lastIndex()) throw new RaftError("Unavailable", `term of index ${i} is unavailable (last index ${this.lastIndex()})`);
    return this.storage.term(i);
  }

  /** term(i), or undefined when it is compacted or unavailable. Other errors propagate. */
  termOrUndefined(i: number): number | undefined {
    // Out of range is the common case on the hot path (findConflict over new entries): answer
    // it without constructing and catching an error, which term() would do.
    if (i > this.lastIndex() || i < this.firstIndex() - 1) return undefined;
    try {
      return this.term(i);
    } catch (err) {
      if (isRaftError(err, "Compacted") || isRaftError(err, "Unavailable")) return undefined;
      throw err;
    }
  }

  /** Entries from i to the end, at most maxBytes (at least one). */
  entries(i: number, maxBytes: number = NO_LIMIT): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** The whole log (for tests). */
  allEntries(): Entry[] {
    for (;;) {
      try {
        return this.entries(this.firstIndex());
      } catch (err) {
        // A concurrent compaction can only happen between calls; retry like etcd does.
        if (isRaftError(err, "Compacted")) continue;
        throw err;
      }
    }
  }

  /**
   * Whether a log ending at (lasti, term) is at least as up-to-date as ours (§5.4.1: compare
   * the terms of the last entries, then the lengths).
   */
  isUpToDate(lasti: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lasti >= this.lastIndex());
  }

  /** Whether the log has an entry at index i with term `term`. */
  matchTerm(i: number, term: number): boolean {
    const t = this.termOrUndefined(i);
    return t !== undefined && t === term;
  }

  /**
   * Commit up to maxIndex if that entry is of term `term` (§5.4.2: a leader commits by
   * counting replicas only entries of its current term). Returns whether commit moved.
   */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.termOrUndefined(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  /** Reset the log to a snapshot (a follower installing the leader's snapshot). */
  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /**
   * Entries [lo, hi), at most maxBytes (at least one), read from Storage and the unstable
   * tail. Throws Compacted when lo is below firstIndex().
   */
  slice(lo: number, hi: number, maxBytes: number = NO_LIMIT): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    if (lo === hi) return [];
    let ents: Entry[] = [];
    if (lo < this.unstable.offset) {
      const stored = this.storage.entries(lo, Math.min(hi, this.unstable.offset), maxBytes);
      // Storage returned fewer entries than asked: it hit the size limit.
      if (stored.length < Math.min(hi, this.unstable.offset) - lo) return stored;
      ents = stored;
    }
    if (hi > this.unstable.offset) {
      const unstable = this.unstable.slice(Math.max(lo, this.unstable.offset), hi);
      ents = ents.length > 0 ? ents.concat(unstable) : unstable;
    }
    return limitSize(ents, maxBytes);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new RaftInvariantError(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new RaftError("Compacted", `slice from ${lo} is compacted (first index ${fi})`);
    const length = this.lastIndex() + 1 - fi;
    if (hi > fi + length) {
      throw new RaftInvariantError(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
    }
  }
}
