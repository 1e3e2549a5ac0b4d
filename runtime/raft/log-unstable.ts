// Unstable: the tail of the log (and possibly an incoming snapshot) that the core has
// accepted but that is not yet known to be on stable storage.
//
// The driver learns about these entries through Ready.entries / Ready.snapshot, persists
// them, and reports back through advance() (stableTo / stableSnapTo). Entries handed out in a
// Ready are "in progress": they are not handed out again, but they stay here, visible to
// reads, until they are reported stable. This split (etcd's offsetInProgress) keeps the door
// open for asynchronous storage writes later.
//
// Invariants:
//   entries[i].index === offset + i
//   snapshot !== undefined  =>  offset === snapshot.metadata.index + 1
//   offset <= offsetInProgress <= offset + entries.length
//   snapshotInProgress  =>  snapshot !== undefined
//
// This file must not do I/O and must not read Storage: RaftLog combines the two.

import { RaftInvariantError } from "./errors.js";
import type { Logger } from "./logger.js";
import type { Entry, Snapshot } from "./types.js";

export class Unstable {
  /** The incoming snapshot, if any, not yet persisted. */
  snapshot: Snapshot | undefined = undefined;
  /** Entries not yet persisted, starting at `offset`. */
  entries: Entry[] = [];
  /** Index of entries[0] (or the index after the snapshot / stable log). */
  offset: number;
  /** Whether the snapshot has been handed out in a Ready and is being written. */
  snapshotInProgress = false;
  /** Entries in [offset, offsetInProgress) have been handed out and are being written. */
  offsetInProgress: number;

  constructor(
    offset: number,
    private readonly logger: Logger,
  ) {
    this.offset = offset;
    this.offsetInProgress = offset;
  }

  /** The first index of the log if it is defined by the unstable snapshot. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  /** The last index, if the unstable part has at least one entry or a snapshot. */
  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  /** The term of entry i, if the unstable part knows it. */
  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const last = this.maybeLastIndex();
    if (last === undefined || i > last) return undefined;
    return this.entries[i - this.offset]!.term;
  }

  /** Entries not yet handed out for writing. */
  nextEntries(): Entry[] {
    const inProgress = this.offsetInProgress - this.offset;
    if (inProgress >= this.entries.length) return [];
    return this.entries.slice(inProgress);
  }

  /** The snapshot, if it is not yet handed out for writing. */
  nextSnapshot(): Snapshot | undefined {
    if (!this.snapshot || this.snapshotInProgress) return undefined;
    return this.snapshot;
  }

  /** Mark everything currently unstable as handed out (called when a Ready is accepted). */
  acceptInProgress(): void {
    if (this.entries.length > 0) this.offsetInProgress = this.entries[this.entries.length - 1]!.index + 1;
    if (this.snapshot) this.snapshotInProgress = true;
  }

  /**
   * Entries through (index, term) are now stable. Ignored when the entry at `index` no longer
   * has that term (it was replaced while being written) or is covered by a newer snapshot.
   * Also ignored while an unstable snapshot is pending: entries after it cannot be durable
   * before it is, since writing it resets the stored log (a batch handed out before
   * restore() and written after it). Report the snapshot first (stableSnapTo), as
   * RawNode.advance does; the entries are then handed out again after the snapshot.
   */
  stableTo(index: number, term: number): void {
    if (this.snapshot) {
      this.logger.info(`entries through index ${index} reported stable before the unstable snapshot at ${this.snapshot.metadata.index}; ignoring`);
      return;
    }
    const gt = this.maybeTerm(index);
    if (gt === undefined) {
      this.logger.info(`entry at index ${index} missing from unstable log; ignoring`);
      return;
    }
    if (index < this.offset) {
      this.logger.info(`entry at index ${index} matched unstable snapshot; ignoring`);
      return;
    }
    if (gt !== term) {
      this.logger.info(`entry at (index,term)=(${index},${term}) mismatched with entry at (${index},${gt}) in unstable log; ignoring`);
      return;
    }
    const num = index + 1 - this.offset;
    this.entries = this.entries.slice(num);
    this.offset = index + 1;
    this.offsetInProgress = Math.max(this.offsetInProgress, this.offset);
  }

  /** The snapshot at index i is now stable. */
  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) {
      this.snapshot = undefined;
      this.snapshotInProgress = false;
    }
  }

  /** Replace everything with a snapshot (a follower receiving the leader's snapshot). */
  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.offsetInProgress = this.offset;
    this.entries = [];
    this.snapshot = s;
    this.snapshotInProgress = false;
  }

  /**
   * Append `ents`, replacing any conflicting suffix. Precondition: ents is non-empty and
   * ents[0].index <= lastIndex + 1 (RaftLog checks it).
   */
  truncateAndAppend(ents: Entry[]): void {
    const fromIndex = ents[0]!.index;
    const after = this.offset + this.entries.length;
    if (fromIndex === after) {
      // The common case: a direct continuation.
      for (const e of ents) this.entries.push(e);
    } else if (fromIndex <= this.offset) {
      // Everything unstable is replaced; the new entries start the unstable part.
      this.logger.info(`replace the unstable entries from index ${fromIndex}`);
      this.entries = ents.slice();
      this.offset = fromIndex;
      this.offsetInProgress = this.offset;
    } else {
      // Keep the prefix before fromIndex, then append.
      this.logger.info(`truncate the unstable entries before index ${fromIndex}`);
      this.entries = this.slice(this.offset, fromIndex).concat(ents);
      // Entries from fromIndex on that were being written are no longer the ones to write.
      this.offsetInProgress = Math.min(this.offsetInProgress, fromIndex);
    }
  }

  /** Entries [lo, hi) of the unstable part. */
  slice(lo: number, hi: number): Entry[] {
    this.mustCheckOutOfBounds(lo, hi);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }

  private mustCheckOutOfBounds(lo: number, hi: number): void {
    if (lo > hi) throw new RaftInvariantError(`invalid unstable.slice ${lo} > ${hi}`);
    const upper = this.offset + this.entries.length;
    if (lo < this.offset || hi > upper) {
      throw new RaftInvariantError(`unstable.slice[${lo},${hi}) out of bound [${this.offset},${upper}]`);
    }
  }
}
