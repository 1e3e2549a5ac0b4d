// Status: a plain, JSON-friendly snapshot of a node's state for /status, logs and tests.
// Peers are listed by ascending id (STYLE 7.3) so that output is stable.
//
// This file must not do I/O.

import type { Raft } from "./raft.js";
import type { ProgressState } from "./tracker/state.js";
import type { HardState, SoftState } from "./types.js";

/** The leader's view of one member. */
export interface PeerProgress {
  id: number;
  match: number;
  next: number;
  state: ProgressState;
  isLearner: boolean;
  recentActive: boolean;
  paused: boolean;
  pendingSnapshot: number;
  inflightMessages: number;
  inflightBytes: number;
}

export interface Status {
  id: number;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  firstIndex: number;
  lastIndex: number;
  voters: number[];
  learners: number[];
  /** Only on a leader: progress of every member (including itself), by ascending id. */
  progress: PeerProgress[];
  leadTransferee: number;
}

export function getStatus(r: Raft): Status {
  const progress: PeerProgress[] = [];
  if (r.state === "Leader") {
    r.trk.visit((id, pr) => {
      progress.push({
        id,
        match: pr.match,
        next: pr.next,
        state: pr.state,
        isLearner: pr.isLearner,
        recentActive: pr.recentActive,
        paused: pr.isPaused(),
        pendingSnapshot: pr.pendingSnapshot,
        inflightMessages: pr.inflights.count(),
        inflightBytes: pr.inflights.bytes(),
      });
    });
  }
  return {
    id: r.id,
    hardState: r.hardState(),
    softState: r.softState(),
    applied: r.raftLog.applied,
    firstIndex: r.raftLog.firstIndex(),
    lastIndex: r.raftLog.lastIndex(),
    voters: [...r.trk.voterIds()],
    learners: [...r.trk.learnerIds()],
    progress,
    leadTransferee: r.leadTransferee,
  };
}
