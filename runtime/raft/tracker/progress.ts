// Progress: the leader's view of one follower (or of itself): how far its log matches,
// what to send next, and the flow-control state. All state transitions live here as
// methods (becomeProbe, becomeReplicate, becomeSnapshot, maybeUpdate, maybeDecrTo), so that
// raft.ts only decides *when* to call them (STYLE 8.2).
//
// Invariant: match < next.
//
// This file must not import raft.ts.

import { Inflights } from "./inflights.js";
import type { ProgressState } from "./state.js";

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match: number;
  /** Index of the next entry to send. Invariant: match < next. */
  next: number;
  state: ProgressState = "Probe";
  /**
   * In Snapshot state: the index of the snapshot being sent. When the follower reports an
   * index at or beyond it, the follower is caught up.
   */
  pendingSnapshot = 0;
  /**
   * Whether the follower was heard from since the last check-quorum round. Also required
   * before the leader sends a snapshot.
   */
  recentActive = false;
  /**
   * Whether sending appends is paused: in Probe after one message until an answer or a
   * heartbeat response; in Replicate when the inflight window is full.
   */
  msgAppFlowPaused = false;
  /** Messages sent in Replicate and not yet acknowledged. */
  inflights: Inflights;
  /** Whether this peer is a learner (never counted for votes or commit). */
  isLearner: boolean;

  constructor(next: number, inflights: Inflights, isLearner: boolean, match = 0) {
    this.match = match;
    this.next = next;
    this.inflights = inflights;
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  /**
   * Go back to probing. From Snapshot, continue after the snapshot that was sent (it may
   * well have arrived); otherwise from match + 1.
   */
  becomeProbe(): void {
    if (this.state === "Snapshot") {
      const pending = this.pendingSnapshot;
      this.resetState("Probe");
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState("Probe");
      this.next = this.match + 1;
    }
  }

  /** Start streaming appends after match. */
  becomeReplicate(): void {
    this.resetState("Replicate");
    this.next = this.match + 1;
  }

  /** The follower needs the snapshot at `snapshotIndex`; stop sending appends. */
  becomeSnapshot(snapshotIndex: number): void {
    this.resetState("Snapshot");
    this.pendingSnapshot = snapshotIndex;
  }

  /**
   * A MsgAppend with `entries` entries (`bytes` payload bytes) was sent, its last entry
   * being `lastIndex`. In Replicate, advance `next` optimistically and occupy a window
   * slot; in Probe, pause until the follower answers.
   */
  sentEntries(entries: number, bytes: number, lastIndex: number): void {
    if (this.state === "Replicate") {
      if (entries > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === "Probe") {
      if (entries > 0) this.msgAppFlowPaused = true;
    } else {
      throw new Error(`sending append in unhandled state ${this.state}`);
    }
  }

  /**
   * The follower acknowledged index n. Returns whether match moved (an older, reordered
   * acknowledgement does not move it). Unpauses the flow either way when it moved.
   */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected the MsgAppend whose previous index was `rejected`, hinting that
   * its log may match up to `matchHint`. Returns false when the rejection is stale (a
   * reordered answer to an older message), true when `next` was moved back.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === "Replicate") {
      // Only a rejection of something above match is news; then restart after match.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In Probe (or Snapshot), only the answer to the latest probe counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Whether the leader should hold back appends to this follower for now. */
  isPaused(): boolean {
    switch (this.state) {
      case "Probe":
      case "Replicate":
        return this.msgAppFlowPaused;
      case "Snapshot":
        return true;
    }
  }

  toString(): string {
    let s = `${this.state} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += " learner";
    if (this.isPaused()) s += " paused";
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += " inactive";
    const n = this.inflights.count();
    if (n > 0) {
      s += ` inflight=${n}`;
      if (this.inflights.full()) s += "[full]";
    }
    return s;
  }
}
