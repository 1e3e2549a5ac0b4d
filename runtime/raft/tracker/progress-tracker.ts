// ProgressTracker: the current configuration (voters and learners), the leader's Progress
// of every member, and the votes of the current election.
//
// Iteration order is always by ascending node id (STYLE 7.3) so that broadcasts, status
// and describe output do not depend on the order in which nodes joined.
//
// This file must not import raft.ts.

import { committedIndex, voteResult, type VoteResult } from "../quorum/majority.js";
import type { ConfState } from "../types.js";
import { Inflights } from "./inflights.js";
import { Progress } from "./progress.js";

/** A single (non-joint) configuration. */
export interface TrackerConfig {
  voters: Set<number>;
  learners: Set<number>;
}

const byId = (a: number, b: number) => a - b;

export class ProgressTracker {
  private config_: TrackerConfig = { voters: new Set(), learners: new Set() };
  private progress_ = new Map<number, Progress>();
  // Sorted id lists, cached per configuration: broadcasts and commit counting ask for them
  // on every proposal and acknowledgement. Replacing `config` or `progress` drops them;
  // the sets and the map must not be mutated in place except through set(), which keeps
  // the same keys (reset).
  private voterIds_: number[] | undefined;
  private learnerIds_: number[] | undefined;
  private memberIds_: number[] | undefined;
  /** Votes of the current election: true = granted, false = rejected. */
  votes = new Map<number, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  /** The current configuration. Assign a new one to change it (never mutate its sets). */
  get config(): TrackerConfig {
    return this.config_;
  }
  set config(c: TrackerConfig) {
    this.config_ = c;
    this.voterIds_ = undefined;
    this.learnerIds_ = undefined;
  }

  /** Progress of every member. Assign a new map to change membership. */
  get progress(): Map<number, Progress> {
    return this.progress_;
  }
  set progress(p: Map<number, Progress>) {
    this.progress_ = p;
    this.memberIds_ = undefined;
  }

  /** Voter ids, ascending. The array is shared: do not mutate it. */
  voterIds(): readonly number[] {
    return (this.voterIds_ ??= [...this.config_.voters].sort(byId));
  }

  /** Learner ids, ascending. The array is shared: do not mutate it. */
  learnerIds(): readonly number[] {
    return (this.learnerIds_ ??= [...this.config_.learners].sort(byId));
  }

  /** Every member's id, ascending. The array is shared: do not mutate it. */
  memberIds(): readonly number[] {
    return (this.memberIds_ ??= [...this.progress_.keys()].sort(byId));
  }

  /** The membership as a ConfState (sorted). */
  confState(): ConfState {
    return { voters: [...this.voterIds()], learners: [...this.learnerIds()] };
  }

  isSingleton(): boolean {
    return this.config.voters.size === 1;
  }

  /** A new Progress with this tracker's flow-control limits. */
  newProgress(next: number, isLearner: boolean, match = 0): Progress {
    return new Progress(next, new Inflights(this.maxInflight, this.maxInflightBytes), isLearner, match);
  }

  /** Call fn for every member, by ascending id. */
  visit(fn: (id: number, pr: Progress) => void): void {
    for (const id of this.memberIds()) fn(id, this.progress.get(id)!);
  }

  /** The largest index acknowledged by a majority of voters (§5.3). */
  committed(): number {
    return committedIndex(this.voterIds(), (id) => this.progress.get(id)?.match);
  }

  /** Whether a majority of voters was recently active (check-quorum, §6.2 of the thesis). */
  quorumActive(): boolean {
    const votes = new Map<number, boolean>();
    for (const [id, pr] of this.progress) {
      if (!pr.isLearner) votes.set(id, pr.recentActive);
    }
    return voteResult(this.voterIds(), votes) === "Won";
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Record a vote; only the first answer of a peer in an election counts. */
  recordVote(id: number, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  /** Count the votes of voters: how many granted, rejected, and the outcome. */
  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.config.voters) {
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: voteResult(this.voterIds(), this.votes) };
  }
}
