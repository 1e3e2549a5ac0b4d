// The leader's side of Raft: replication with per-follower flow control (§5.3), commit by
// counting current-term entries (§5.4.2), heartbeats, check-quorum, ReadIndex (thesis §6.4),
// leader transfer (thesis §3.10), snapshots to lagging followers and proposal admission
// (one pending conf change at a time, none during a transfer).
//
// Functions here take the Raft instance; they are split from raft.ts by role only.
// This file must not do I/O.

import { RaftError, RaftInvariantError, isRaftError } from "./errors.js";
import { voteResult } from "./quorum/majority.js";
import type { Raft } from "./raft.js";
import type { Progress } from "./tracker/progress.js";
import {
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  isEmptySnapshot,
  payloadSize,
} from "./types.js";

export function stepLeader(r: Raft, m: Message): void {
  // Messages that need no progress of a particular peer.
  switch (m.type) {
    case MessageType.MsgBeat:
      bcastHeartbeat(r);
      return;
    case MessageType.MsgCheckQuorum:
      // Step down when a quorum has not been heard from within an election timeout: a
      // partitioned leader then stops serving lease reads and accepting proposals.
      if (!r.trk.quorumActive()) {
        r.logger.warn(`${r.id} stepped down to follower since quorum is not active`);
        r.becomeFollower(r.term, 0);
      }
      for (const [id, pr] of r.trk.progress) if (id !== r.id) pr.recentActive = false;
      return;
    case MessageType.MsgPropose:
      propose(r, m);
      return;
    case MessageType.MsgReadIndex:
      // A single voter is its own quorum: the commit index is current by definition.
      if (r.trk.isSingleton()) {
        const resp = responseToReadIndexReq(r, m, r.raftLog.committed);
        if (resp) r.send(resp);
        return;
      }
      // Until the leader commits an entry of its term it does not know the latest commit
      // index (thesis §6.4): hold the request until then.
      if (!r.committedEntryInCurrentTerm()) {
        r.pendingReadIndexMessages.push(m);
        return;
      }
      sendMsgReadIndexResponse(r, m);
      return;
  }

  const pr = r.trk.progress.get(m.from);
  if (!pr) {
    r.logger.debug(`${r.id} no progress available for ${m.from}`);
    return;
  }
  switch (m.type) {
    case MessageType.MsgAppendResponse:
      handleAppendResponse(r, m, pr);
      return;
    case MessageType.MsgHeartbeatResponse:
      handleHeartbeatResponse(r, m, pr);
      return;
    case MessageType.MsgSnapStatus:
      if (pr.state !== "Snapshot") return;
      if (!m.reject) {
        pr.becomeProbe();
        r.logger.debug(`${r.id} snapshot succeeded, resumed sending replication messages to ${m.from} [${pr}]`);
      } else {
        // The snapshot did not arrive: forget it so that becomeProbe restarts after match.
        pr.pendingSnapshot = 0;
        pr.becomeProbe();
        r.logger.debug(`${r.id} snapshot failed, resumed sending replication messages to ${m.from} [${pr}]`);
      }
      // Wait for a heartbeat response (or an append response) before the next append, so
      // that a follower still applying the snapshot is not flooded.
      pr.msgAppFlowPaused = true;
      return;
    case MessageType.MsgUnreachable:
      // Appends in flight were probably lost: go back to probing.
      if (pr.state === "Replicate") pr.becomeProbe();
      r.logger.debug(`${r.id} failed to send message to ${m.from} because it is unreachable [${pr}]`);
      return;
    case MessageType.MsgTransferLeader:
      handleTransferLeader(r, m, pr);
      return;
    default:
      return;
  }
}

function propose(r: Raft, m: Message): void {
  if (m.entries.length === 0) throw new RaftInvariantError(`${r.id} stepped empty MsgPropose`);
  if (!r.trk.progress.has(r.id)) {
    // Removed from the configuration while still leader (stepDownOnRemoval off).
    throw new RaftError("ProposalDropped", `${r.id} is not a member of the configuration`);
  }
  if (r.leadTransferee !== 0) {
    r.logger.debug(`${r.id} [term ${r.term}] transfer leadership to ${r.leadTransferee} is in progress; dropping proposal`);
    throw new RaftError("ProposalDropped", `leadership transfer to ${r.leadTransferee} is in progress`);
  }
  const local = m.from === r.id || m.from === 0;
  let entries: Entry[] = m.entries;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.type !== EntryType.EntryConfChange) continue;
    // At most one membership change may be pending (not yet applied), thesis §4.1.
    if (r.pendingConfIndex > r.raftLog.applied) {
      const reason = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`;
      r.logger.info(`${r.id} ignoring conf change: ${reason}`);
      if (local && entries.length === 1) throw new RaftError("ProposalDropped", `conf change refused: ${reason}`);
      // Keep the other entries of a batch: replace the refused change with a no-op.
      if (entries === m.entries) entries = entries.slice();
      entries[i] = { type: EntryType.EntryNormal, term: 0, index: 0, data: EMPTY_BYTES, context: e.context };
    } else {
      r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
    }
  }
  if (!r.appendEntry(entries)) {
    throw new RaftError("ProposalDropped", "uncommitted entry size limit exceeded");
  }
  bcastAppend(r);
}

function handleAppendResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  if (m.reject) {
    r.logger.debug(`${r.id} received MsgAppendResponse(rejected, hint: (index ${m.rejectHint}, term ${m.logTerm})) from ${m.from} for index ${m.index}`);
    // The follower told us the largest (index, term) at which its log may match ours. Move
    // to the largest index <= that hint whose term in our log is <= the follower's term:
    // with both sides skipping a term at a time, conflicts resolve in O(terms) round trips.
    let nextProbeIdx = m.rejectHint;
    if (m.logTerm > 0) nextProbeIdx = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm)[0];
    if (pr.maybeDecrTo(m.index, nextProbeIdx)) {
      r.logger.debug(`${r.id} decreased progress of ${m.from} to [${pr}]`);
      if (pr.state === "Replicate") pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }

  const oldPaused = pr.isPaused();
  // A stale (reordered or duplicated) acknowledgement changes nothing, except that an
  // unpaused probing follower acknowledging exactly its match (the answer to the empty probe
  // a heartbeat answer triggers) is caught up and returns to Replicate, as in etcd-io/raft.
  // A paused probe waits for its heartbeat instead, so that a follower refusing a snapshot
  // (answering with its unchanged commit) is not re-sent one at once, again and again.
  const caughtUpProbe = pr.state === "Probe" && !pr.msgAppFlowPaused && pr.match === m.index;
  if (!pr.maybeUpdate(m.index) && !caughtUpProbe) return;

  if (pr.state === "Probe") {
    pr.becomeReplicate();
  } else if (pr.state === "Snapshot" && pr.match + 1 >= r.raftLog.firstIndex()) {
    // The snapshot (or appends) brought the follower to where the log can take over.
    r.logger.debug(`${r.id} recovered from needing snapshot, resumed sending replication messages to ${m.from} [${pr}]`);
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === "Replicate") {
    pr.inflights.freeLE(m.index);
  }

  if (maybeCommit(r)) {
    releasePendingReadIndexMessages(r);
    bcastAppend(r);
  } else if (m.from !== r.id && oldPaused) {
    // The follower was paused and can take more now.
    sendAppend(r, m.from);
  }
  if (m.from !== r.id) {
    // Fill the inflight window; empty appends are not needed here.
    while (maybeSendAppend(r, m.from, false)) {
      /* keep sending */
    }
  }
  // A transfer waits for the transferee to catch up; now it has.
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info(`${r.id} sent MsgTimeoutNow to ${m.from} after received MsgAppendResponse`);
    r.sendTimeoutNow(m.from);
  }
}

function handleHeartbeatResponse(r: Raft, m: Message, pr: Progress): void {
  pr.recentActive = true;
  pr.msgAppFlowPaused = false;
  if (pr.match < r.raftLog.lastIndex() || pr.state === "Probe") sendAppend(r, m.from);

  if (r.readOnly.option !== "safe" || m.context.length === 0) return;
  const acks = r.readOnly.recvAck(m.from, m.context);
  if (!acks) return;
  const votes = new Map<number, boolean>();
  for (const id of acks) votes.set(id, true);
  if (voteResult(r.trk.voterIds(), votes) !== "Won") return;
  for (const rs of r.readOnly.advance(m.context)) {
    const resp = responseToReadIndexReq(r, rs.req, rs.index);
    if (resp) r.send(resp);
  }
}

function handleTransferLeader(r: Raft, m: Message, pr: Progress): void {
  if (pr.isLearner) {
    r.logger.debug(`${r.id} is learner. Ignored transferring leadership`);
    return;
  }
  const transferee = m.from;
  const last = r.leadTransferee;
  if (last !== 0) {
    if (last === transferee) {
      r.logger.info(`${r.id} [term ${r.term}] transfer leadership to ${transferee} is in progress, ignores request to same node ${transferee}`);
      return;
    }
    r.abortLeaderTransfer();
    r.logger.info(`${r.id} [term ${r.term}] abort previous transferring leadership to ${last}`);
  }
  if (transferee === r.id) {
    r.logger.debug(`${r.id} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(`${r.id} [term ${r.term}] starts to transfer leadership to ${transferee}`);
  // The transfer must finish within one election timeout or it is aborted (tickHeartbeat).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) {
    r.sendTimeoutNow(transferee);
    r.logger.info(`${r.id} sends MsgTimeoutNow to ${transferee} immediately as ${transferee} already has up-to-date log`);
  } else {
    sendAppend(r, transferee);
  }
}

/** Commit the largest index a quorum has, if it is of the current term. */
export function maybeCommit(r: Raft): boolean {
  return r.raftLog.maybeCommit(r.trk.committed(), r.term);
}

/** Send appends to every member but ourselves, ascending by id. */
export function bcastAppend(r: Raft): void {
  for (const id of r.trk.memberIds()) if (id !== r.id) sendAppend(r, id);
}

export function sendAppend(r: Raft, to: number): void {
  maybeSendAppend(r, to, true);
}

/**
 * Send the follower the entries it lacks (at most maxMsgSize bytes), or a snapshot when
 * they were compacted. With sendIfEmpty false, send nothing when there are no new entries.
 * Returns whether a message was sent.
 */
export function maybeSendAppend(r: Raft, to: number, sendIfEmpty: boolean): boolean {
  const pr = r.trk.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.raftLog.termOrUndefined(prevIndex);
  if (prevTerm === undefined) {
    // The log was compacted past what the follower has: only a snapshot can help.
    return maybeSendSnapshot(r, to, pr);
  }
  let ents: Entry[] = [];
  let compacted = false;
  // A throttled follower in Replicate gets only empty appends, which still reach it and
  // get answered, so that a window full of lost messages cannot stall replication.
  if (pr.state !== "Replicate" || !pr.inflights.full()) {
    try {
      ents = r.raftLog.entries(pr.next, r.maxMsgSize);
    } catch (err) {
      if (!isRaftError(err, "Compacted")) throw err;
      compacted = true;
    }
  }
  if (ents.length === 0 && !sendIfEmpty && !compacted) return false;
  if (compacted) return maybeSendSnapshot(r, to, pr);

  let bytes = 0;
  for (const e of ents) bytes += payloadSize(e);
  r.send({
    to,
    type: MessageType.MsgAppend,
    index: prevIndex,
    logTerm: prevTerm,
    entries: ents,
    commit: r.raftLog.committed,
  });
  pr.sentEntries(ents.length, bytes, ents.length > 0 ? ents[ents.length - 1]!.index : prevIndex);
  return true;
}

function maybeSendSnapshot(r: Raft, to: number, pr: Progress): boolean {
  if (!pr.recentActive) {
    r.logger.debug(`${r.id} ignore sending snapshot to ${to} since it is not recently active`);
    return false;
  }
  let snap;
  try {
    snap = r.raftLog.snapshot(to);
  } catch (err) {
    if (isRaftError(err, "SnapshotTemporarilyUnavailable")) {
      r.logger.debug(`${r.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
      return false;
    }
    throw err;
  }
  if (isEmptySnapshot(snap)) throw new RaftInvariantError(`${r.id} needs a non-empty snapshot to send to ${to}`);
  const { index, term } = snap.metadata;
  r.logger.debug(`${r.id} [firstindex: ${r.raftLog.firstIndex()}, commit: ${r.raftLog.committed}] sent snapshot[index: ${index}, term: ${term}] to ${to} [${pr}]`);
  pr.becomeSnapshot(index);
  r.send({ to, type: MessageType.MsgSnapshot, snapshot: snap });
  return true;
}

export function bcastHeartbeat(r: Raft): void {
  const ctx = r.readOnly.lastPendingRequestCtx();
  bcastHeartbeatWithCtx(r, ctx ?? EMPTY_BYTES);
}

function bcastHeartbeatWithCtx(r: Raft, ctx: Uint8Array): void {
  for (const id of r.trk.memberIds()) if (id !== r.id) sendHeartbeat(r, id, ctx);
}

function sendHeartbeat(r: Raft, to: number, ctx: Uint8Array): void {
  // Never tell a follower to commit beyond what it is known to have: its log may still
  // differ from ours above match.
  const pr = r.trk.progress.get(to)!;
  const commit = Math.min(pr.match, r.raftLog.committed);
  r.send({ to, type: MessageType.MsgHeartbeat, commit, context: ctx });
}

function sendMsgReadIndexResponse(r: Raft, m: Message): void {
  if (r.readOnly.option === "safe") {
    // Confirm leadership with a heartbeat round carrying the request's context.
    const ctx = m.entries[0]!.data;
    r.readOnly.addRequest(r.raftLog.committed, m);
    r.readOnly.recvAck(r.id, ctx);
    bcastHeartbeatWithCtx(r, ctx);
  } else {
    const resp = responseToReadIndexReq(r, m, r.raftLog.committed);
    if (resp) r.send(resp);
  }
}

/** Release ReadIndex requests held until the leader's first commit of its term. */
function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0) return;
  if (!r.committedEntryInCurrentTerm()) {
    r.logger.error(`${r.id} pending MsgReadIndex should be released only after first commit in current term`);
    return;
  }
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) sendMsgReadIndexResponse(r, m);
}

/**
 * Answer a read request at `readIndex`: locally (a ReadState) when it came from this node,
 * otherwise with a MsgReadIndexResp to the follower that forwarded it.
 */
function responseToReadIndexReq(r: Raft, req: Message, readIndex: number): (Partial<Message> & Pick<Message, "type" | "to">) | undefined {
  if (req.from === 0 || req.from === r.id) {
    r.readStates.push({ index: readIndex, requestCtx: req.entries[0]!.data });
    return undefined;
  }
  return { type: MessageType.MsgReadIndexResp, to: req.from, index: readIndex, entries: req.entries };
}
