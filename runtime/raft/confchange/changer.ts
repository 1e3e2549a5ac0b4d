// Single-step membership changes (Raft thesis §4.1: one server added or removed at a time,
// so that any majority of the old configuration overlaps any majority of the new one).
//
// applyChange never mutates its inputs: it returns the new configuration and the new
// progress map, or throws RaftError("InvalidConfig") leaving everything as it was. Joint
// consensus is a later goal; it would live beside this file.
//
// This file imports only tracker/ and quorum/ (and the shared types and errors).

import { RaftError } from "../errors.js";
import type { Progress } from "../tracker/progress.js";
import type { ProgressTracker, TrackerConfig } from "../tracker/progress-tracker.js";
import { type ConfChange, ConfChangeType, type ConfState } from "../types.js";

export interface ChangeResult {
  config: TrackerConfig;
  progress: Map<number, Progress>;
}

/**
 * Apply one change to a copy of the tracker's configuration.
 * - AddNode: add a voter, or promote a learner to voter; a no-op for an existing voter.
 * - AddLearnerNode: add a learner; a no-op for an existing learner; refused for a voter
 *   (demotion needs joint consensus).
 * - RemoveNode: remove a voter or learner; a no-op for an unknown id; refused when it would
 *   remove the last voter.
 * `lastIndex` is the leader's last index: new members start probing from there.
 */
export function applyChange(tracker: ProgressTracker, cc: ConfChange, lastIndex: number): ChangeResult {
  const config: TrackerConfig = {
    voters: new Set(tracker.config.voters),
    learners: new Set(tracker.config.learners),
  };
  const progress = new Map(tracker.progress);
  const id = cc.nodeId;
  if (id === 0) throw new RaftError("InvalidConfig", `conf change ${JSON.stringify(cc.type)} for node id 0`);

  const init = (isLearner: boolean): Progress => {
    // New members start probing at the leader's last index; they are presumed active so
    // that check-quorum does not step the leader down before they answer.
    const pr = tracker.newProgress(Math.max(lastIndex, 1), isLearner);
    pr.recentActive = true;
    return pr;
  };

  switch (cc.type) {
    case ConfChangeType.AddNode: {
      if (config.voters.has(id)) break;
      config.learners.delete(id);
      config.voters.add(id);
      const existing = progress.get(id);
      if (existing) {
        // Promotion keeps the replication state; only the learner flag changes.
        const copy = Object.assign(Object.create(Object.getPrototypeOf(existing)), existing) as Progress;
        copy.isLearner = false;
        progress.set(id, copy);
      } else {
        progress.set(id, init(false));
      }
      break;
    }
    case ConfChangeType.AddLearnerNode: {
      if (config.learners.has(id)) break;
      if (config.voters.has(id)) {
        throw new RaftError("InvalidConfig", `cannot make voter ${id} a learner with a single-step change`);
      }
      config.learners.add(id);
      progress.set(id, init(true));
      break;
    }
    case ConfChangeType.RemoveNode: {
      if (!config.voters.has(id) && !config.learners.has(id)) break;
      if (config.voters.has(id) && config.voters.size === 1) {
        throw new RaftError("InvalidConfig", `removing voter ${id} would leave no voter`);
      }
      config.voters.delete(id);
      config.learners.delete(id);
      progress.delete(id);
      break;
    }
    default:
      throw new RaftError("InvalidConfig", `unknown conf change type ${String((cc as ConfChange).type)}`);
  }
  return { config, progress };
}

/**
 * Build a configuration from a ConfState (at start-up or when installing a snapshot). Every
 * member gets a fresh Progress starting at `next`.
 */
export function restoreConfig(tracker: ProgressTracker, cs: ConfState, next: number): ChangeResult {
  const config: TrackerConfig = { voters: new Set(cs.voters), learners: new Set(cs.learners) };
  for (const id of cs.learners) {
    if (config.voters.has(id)) throw new RaftError("InvalidConfig", `node ${id} is both voter and learner`);
  }
  const progress = new Map<number, Progress>();
  for (const id of cs.voters) progress.set(id, tracker.newProgress(next, false));
  for (const id of cs.learners) progress.set(id, tracker.newProgress(next, true));
  return { config, progress };
}
