// Raft: the consensus state machine of one node (Raft paper §5, thesis §3, §4, §6, §9.6).
//
// It holds the term, the vote, the log, the role and, on a leader, the progress of every
// follower. step() takes one message (from a peer, or a local one such as MsgHup) and
// changes the state; messages to send are queued in `msgs` (sendable at once) and in
// `msgsAfterAppend` (sendable only once the entries and hard state accepted so far are on
// stable storage: append and vote responses, and the node's own acknowledgements, which
// RawNode steps back into this node when the driver reports persistence).
//
// The leader-side handling of messages lives in raft-leader.ts, split by role (STYLE 7.1).
//
// This file must not do I/O, read a clock, use timers, global randomness or host globals:
// time comes from tick() and randomness from Config.rand.

import { restoreConfig, applyChange } from "./confchange/changer.js";
import { type ResolvedConfig, type Config, resolveConfig } from "./config.js";
import { RaftError, RaftInvariantError, isRaftError } from "./errors.js";
import type { Logger } from "./logger.js";
import { RaftLog } from "./log.js";
import { ReadOnly } from "./read-only.js";
import type { Storage } from "./storage.js";
import { ProgressTracker } from "./tracker/progress-tracker.js";
import {
  type ConfChange,
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  type ReadState,
  type Snapshot,
  type SoftState,
  type StateRole,
  isEmptyHardState,
  messageTypeName,
  newMessage,
  payloadSize,
  voteResponseType,
} from "./types.js";
import { stepLeader, bcastAppend, maybeCommit, maybeSendAppend } from "./raft-leader.js";

/** The kinds of campaign: a pre-vote round, a real election, or one forced by a transfer. */
export type CampaignType = "CampaignPreElection" | "CampaignElection" | "CampaignTransfer";

/** Vote context marking an election started by MsgTimeoutNow (leader transfer). */
export const CAMPAIGN_TRANSFER: Uint8Array = new Uint8Array([...'CampaignTransfer'].map((c) => c.charCodeAt(0)));

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A message field set for send(): type and to are required, the rest defaults. */
type Outgoing = Partial<Message> & Pick<Message, "type" | "to">;

export class Raft {
  readonly id: number;
  /** Current term. Persisted (HardState). Only ever grows. */
  term = 0;
  /** Whom this node voted for in `term`; 0 = nobody. Persisted (HardState). */
  vote = 0;
  /** ReadIndex answers ready for the application; drained by Ready. */
  readStates: ReadState[] = [];
  readonly raftLog: RaftLog;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly trk: ProgressTracker;
  state: StateRole = "Follower";
  /** Whether this node is a learner in the current configuration. */
  isLearner = false;
  /** Messages that may be sent at once. Drained by Ready. */
  msgs: Message[] = [];
  /**
   * Messages that may be sent only after the current unstable entries and hard state are
   * persisted. Those addressed to this node itself are stepped back in by RawNode.advance.
   */
  msgsAfterAppend: Message[] = [];
  /** The leader of `term` as far as this node knows; 0 = unknown. */
  lead = 0;
  /** The node a leader transfer is under way to; 0 = none. Leader only. */
  leadTransferee = 0;
  /**
   * Index of the latest conf change entry proposed (or a bound on it). A new conf change is
   * refused while it is above the applied index: only one change may be pending (§4.1).
   */
  pendingConfIndex = 0;
  /** Payload bytes of entries proposed on this leader and not yet committed. */
  uncommittedSize = 0;
  readOnly: ReadOnly;
  /** ReadIndex requests that arrived before the leader committed an entry of its term. */
  pendingReadIndexMessages: Message[] = [];
  /** Ticks since the last election timeout reset (leader: since the last check-quorum). */
  electionElapsed = 0;
  /** Leader only: ticks since the last heartbeat. */
  heartbeatElapsed = 0;
  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  /** Randomized in [electionTimeout, 2*electionTimeout) on every reset (§5.2). */
  randomizedElectionTimeout = 0;
  readonly disableProposalForwarding: boolean;
  readonly stepDownOnRemoval: boolean;
  readonly logger: Logger;
  private readonly config: ResolvedConfig;

  constructor(config: Config, storage: Storage) {
    const c = resolveConfig(config);
    this.config = c;
    this.id = c.id;
    this.logger = c.logger;
    this.raftLog = new RaftLog(storage, c.logger, c.maxCommittedSizePerReady);
    this.maxMsgSize = c.maxSizePerMsg;
    this.maxUncommittedSize = c.maxUncommittedEntriesSize;
    this.trk = new ProgressTracker(c.maxInflightMsgs, c.maxInflightBytes);
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.disableProposalForwarding = c.disableProposalForwarding;
    this.stepDownOnRemoval = c.stepDownOnRemoval;
    this.readOnly = new ReadOnly(c.readOnlyOption);

    const { hardState, confState } = storage.initialState();
    const restored = restoreConfig(this.trk, confState, this.raftLog.lastIndex() + 1);
    this.trk.config = restored.config;
    this.trk.progress = restored.progress;
    this.isLearner = this.trk.progress.get(this.id)?.isLearner ?? false;
    if (!isEmptyHardState(hardState)) this.loadState(hardState);
    if (c.applied > 0) this.raftLog.appliedTo(Math.max(c.applied, this.raftLog.applied));
    this.becomeFollower(this.term, 0);

    this.logger.info(
      `newRaft ${this.id} [peers: [${this.trk.voterIds().join(",")}], learners: [${this.trk.learnerIds().join(",")}], term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  softState(): SoftState {
    return { leaderId: this.lead, raftState: this.state };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  /** Whether this node may become leader: a voter with no snapshot still to apply. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasNextOrInProgressSnapshot();
  }

  // ---------------------------------------------------------------------------------------
  // Sending

  /**
   * Queue a message. Term is filled in (except for proposals and read requests forwarded to
   * the leader, which are "local" and carry term 0; and vote messages, which set it).
   * Responses that acknowledge local persistence go to msgsAfterAppend.
   */
  send(fields: Outgoing): void {
    const m = newMessage(fields);
    if (m.from === 0) m.from = this.id;
    if (
      m.type === MessageType.MsgRequestVote ||
      m.type === MessageType.MsgRequestVoteResponse ||
      m.type === MessageType.MsgRequestPreVote ||
      m.type === MessageType.MsgRequestPreVoteResponse
    ) {
      // Vote messages carry the term of the election (pre-votes: the future term).
      if (m.term === 0) throw new RaftInvariantError(`term should be set when sending ${messageTypeName[m.type]}`);
    } else {
      if (m.term !== 0) {
        throw new RaftInvariantError(`term should not be set when sending ${messageTypeName[m.type]} (was ${m.term})`);
      }
      // Proposals and read requests forwarded to the leader are local messages for it.
      if (m.type !== MessageType.MsgPropose && m.type !== MessageType.MsgReadIndex) m.term = this.term;
    }
    if (
      m.type === MessageType.MsgAppendResponse ||
      m.type === MessageType.MsgRequestVoteResponse ||
      m.type === MessageType.MsgRequestPreVoteResponse
    ) {
      // These promise durability of what they acknowledge (a vote, appended entries).
      this.msgsAfterAppend.push(m);
    } else {
      if (m.to === this.id) throw new RaftInvariantError(`message should not be self-addressed when sending ${messageTypeName[m.type]}`);
      this.msgs.push(m);
    }
  }

  sendTimeoutNow(to: number): void {
    this.send({ to, type: MessageType.MsgTimeoutNow });
  }

  // ---------------------------------------------------------------------------------------
  // Clock

  /** Advance the logical clock by one tick. */
  tick(): void {
    if (this.state === "Leader") this.tickHeartbeat();
    else this.tickElection();
  }

  /** Followers and candidates: campaign after the randomized election timeout (§5.2). */
  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgHup, from: this.id }));
    }
  }

  /** Leaders: heartbeat every heartbeatTimeout; check quorum every electionTimeout. */
  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage({ type: MessageType.MsgCheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned (thesis §3.10).
      if (this.state === "Leader" && this.leadTransferee !== 0) this.abortLeaderTransfer();
    }
    if (this.state !== "Leader") return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage({ type: MessageType.MsgBeat, from: this.id }));
    }
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + this.config.rand.intn(this.electionTimeout);
  }

  // ---------------------------------------------------------------------------------------
  // Role changes

  /** Reset the volatile state for `term` (a new term clears the vote). */
  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = 0;
    }
    this.lead = 0;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const lastIndex = this.raftLog.lastIndex();
    // Only what is already on stable storage counts as matched for this node itself; the
    // rest is acknowledged by the self-addressed MsgAppendResponse after it is persisted.
    const stableLast = Math.min(lastIndex, this.raftLog.unstable.offset - 1);
    for (const [id, pr] of [...this.trk.progress]) {
      const fresh = this.trk.newProgress(lastIndex + 1, pr.isLearner);
      if (id === this.id) fresh.match = stableLast;
      this.trk.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly(this.readOnly.option);
    this.pendingReadIndexMessages = [];
  }

  becomeFollower(term: number, lead: number): void {
    this.reset(term);
    this.lead = lead;
    this.state = "Follower";
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === "Leader") throw new RaftInvariantError("invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = "Candidate";
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  /** Pre-candidate: like a candidate, but neither the term nor the vote change (§9.6). */
  becomePreCandidate(): void {
    if (this.state === "Leader") throw new RaftInvariantError("invalid transition [leader -> pre-candidate]");
    this.trk.resetVotes();
    this.lead = 0;
    this.state = "PreCandidate";
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === "Follower") throw new RaftInvariantError("invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.state = "Leader";
    const self = this.trk.progress.get(this.id)!;
    // The leader replicates to itself trivially; it is active by definition.
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively assume an unapplied conf change may be in the log.
    this.pendingConfIndex = this.raftLog.lastIndex();
    // Commit an empty entry of the new term: it commits everything before it (§5.4.2) and
    // lets ReadIndex know the leader's commit index is current (thesis §6.4).
    if (!this.appendEntry([{ type: EntryType.EntryNormal, term: 0, index: 0, data: EMPTY_BYTES, context: EMPTY_BYTES }])) {
      throw new RaftInvariantError("empty entry was dropped");
    }
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  // ---------------------------------------------------------------------------------------
  // Elections

  /** Start an election if allowed (MsgHup). */
  hup(t: CampaignType): void {
    if (this.state === "Leader") {
      this.logger.debug(`${this.id} ignoring MsgHup because already leader`);
      return;
    }
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable and can not campaign`);
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logger.warn(`${this.id} cannot campaign at term ${this.term} since there are still pending configuration changes to apply`);
      return;
    }
    this.logger.info(`${this.id} is starting a new election at term ${this.term}`);
    this.campaign(t);
  }

  private hasUnappliedConfChanges(): boolean {
    const lo = this.raftLog.applied + 1;
    const hi = this.raftLog.committed + 1;
    if (lo >= hi) return false;
    try {
      for (const e of this.raftLog.slice(lo, hi)) if (e.type === EntryType.EntryConfChange) return true;
    } catch (err) {
      if (!isRaftError(err, "Compacted")) throw err;
    }
    return false;
  }

  /**
   * Ask every voter for its vote. The node's own vote is a self-addressed response that is
   * counted only after the hard state carrying it is persisted.
   */
  campaign(t: CampaignType): void {
    if (!this.promotable()) {
      this.logger.warn(`${this.id} is unpromotable; campaign() should have been called`);
    }
    let voteMsg: MessageType;
    let term: number;
    if (t === "CampaignPreElection") {
      this.becomePreCandidate();
      voteMsg = MessageType.MsgRequestPreVote;
      // Pre-votes are requested for the next term without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteMsg = MessageType.MsgRequestVote;
      term = this.term;
    }
    const lastIndex = this.raftLog.lastIndex();
    const lastTerm = this.raftLog.lastTerm();
    for (const id of this.trk.voterIds()) {
      if (id === this.id) {
        this.send({ to: id, term, type: voteResponseType(voteMsg) });
        continue;
      }
      this.logger.info(
        `${this.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${messageTypeName[voteMsg]} request to ${id} at term ${this.term}`,
      );
      this.send({
        to: id,
        term,
        type: voteMsg,
        index: lastIndex,
        logTerm: lastTerm,
        context: t === "CampaignTransfer" ? CAMPAIGN_TRANSFER : EMPTY_BYTES,
      });
    }
  }

  private poll(id: number, t: MessageType, granted: boolean) {
    if (granted) this.logger.info(`${this.id} received ${messageTypeName[t]} from ${id} at term ${this.term}`);
    else this.logger.info(`${this.id} received ${messageTypeName[t]} rejection from ${id} at term ${this.term}`);
    this.trk.recordVote(id, granted);
    return this.trk.tallyVotes();
  }

  // ---------------------------------------------------------------------------------------
  // Step: the term rules common to every role (§5.1), then the role's handler.

  /**
   * Process one message. Throws RaftError ProposalDropped when a proposal (or a read
   * request) cannot be taken; every other outcome is a state change or queued messages.
   */
  step(m: Message): void {
    if (m.term === 0) {
      // A local message (or a proposal / read request forwarded by a follower).
    } else if (m.term > this.term) {
      if (m.type === MessageType.MsgRequestVote || m.type === MessageType.MsgRequestPreVote) {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== 0 && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Within the lease of a current leader: ignore, so that a partitioned node that
          // rejoins with a high term cannot disrupt the cluster (thesis §4.2.3).
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] ignored ${messageTypeName[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}: lease is not expired (remaining ticks: ${this.electionTimeout - this.electionElapsed})`,
          );
          return;
        }
      }
      if (m.type === MessageType.MsgRequestPreVote) {
        // A pre-vote never changes our term.
      } else if (m.type === MessageType.MsgRequestPreVoteResponse && !m.reject) {
        // A granted pre-vote carries the future term; we move to it when the pre-vote wins.
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] received a ${messageTypeName[m.type]} message with higher term from ${m.from} [term: ${m.term}]`);
        if (m.type === MessageType.MsgAppend || m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgSnapshot) {
          this.becomeFollower(m.term, m.from);
        } else {
          this.becomeFollower(m.term, 0);
        }
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === MessageType.MsgHeartbeat || m.type === MessageType.MsgAppend)) {
        // A leader of an old term may be cut off and unable to learn of the new term unless
        // told: answer so it steps down. Needed with check-quorum and pre-vote, where our
        // own higher-term votes may never reach it.
        this.send({ to: m.from, type: MessageType.MsgAppendResponse });
      } else if (m.type === MessageType.MsgRequestPreVote) {
        this.logger.info(`${this.id} [term: ${this.term}] rejected ${messageTypeName[m.type]} from ${m.from} [term: ${m.term}]`);
        this.send({ to: m.from, term: this.term, type: MessageType.MsgRequestPreVoteResponse, reject: true });
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] ignored a ${messageTypeName[m.type]} message with lower term from ${m.from} [term: ${m.term}]`);
      }
      return;
    }

    switch (m.type) {
      case MessageType.MsgHup:
        this.hup(this.preVote ? "CampaignPreElection" : "CampaignElection");
        return;
      case MessageType.MsgRequestVote:
      case MessageType.MsgRequestPreVote: {
        // §5.2, §5.4.1: grant when we have not voted for someone else in this term and the
        // candidate's log is at least as up-to-date as ours. A pre-vote for a later term may
        // be granted regardless of our vote in the current term.
        const canVote =
          this.vote === m.from ||
          (this.vote === 0 && this.lead === 0) ||
          (m.type === MessageType.MsgRequestPreVote && m.term > this.term);
        if (canVote && this.raftLog.isUpToDate(m.index, m.logTerm)) {
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] cast ${messageTypeName[m.type]} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          // The response carries the message's term, so a pre-candidate can count it.
          this.send({ to: m.from, term: m.term, type: voteResponseType(m.type) });
          if (m.type === MessageType.MsgRequestVote) {
            this.electionElapsed = 0;
            this.vote = m.from;
          }
        } else {
          this.logger.info(
            `${this.id} [logterm: ${this.raftLog.lastTerm()}, index: ${this.raftLog.lastIndex()}, vote: ${this.vote}] rejected ${messageTypeName[m.type]} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}] at term ${this.term}`,
          );
          this.send({ to: m.from, term: this.term, type: voteResponseType(m.type), reject: true });
        }
        return;
      }
      default:
        switch (this.state) {
          case "Leader":
            stepLeader(this, m);
            return;
          case "Candidate":
          case "PreCandidate":
            this.stepCandidate(m);
            return;
          case "Follower":
            this.stepFollower(m);
            return;
        }
    }
  }

  private stepCandidate(m: Message): void {
    // A pre-candidate counts pre-vote responses, a candidate vote responses; stale answers
    // of the other kind are ignored.
    const myVoteRespType =
      this.state === "PreCandidate" ? MessageType.MsgRequestPreVoteResponse : MessageType.MsgRequestVoteResponse;
    switch (m.type) {
      case MessageType.MsgPropose:
        this.logger.info(`${this.id} no leader at term ${this.term}; dropping proposal`);
        throw new RaftError("ProposalDropped", `no leader at term ${this.term}`);
      case MessageType.MsgReadIndex:
        throw new RaftError("ProposalDropped", `no leader at term ${this.term}; dropping index reading msg`);
      case MessageType.MsgAppend:
        // §5.2: a candidate that hears from a leader of its term returns to follower.
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnapshot:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteRespType: {
        const { granted, rejected, result } = this.poll(m.from, m.type, !m.reject);
        this.logger.info(`${this.id} has received ${granted} ${messageTypeName[m.type]} votes and ${rejected} vote rejections`);
        if (result === "Won") {
          if (this.state === "PreCandidate") {
            this.campaign("CampaignElection");
          } else {
            this.becomeLeader();
            bcastAppend(this);
          }
        } else if (result === "Lost") {
          // Either way (pre-vote or vote) we go back to follower at our current term.
          this.becomeFollower(this.term, 0);
        }
        return;
      }
      case MessageType.MsgTimeoutNow:
        this.logger.debug(`${this.id} [term ${this.term} state ${this.state}] ignored MsgTimeoutNow from ${m.from}`);
        return;
      default:
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.MsgPropose:
        if (this.lead === 0) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping proposal`);
          throw new RaftError("ProposalDropped", `no leader at term ${this.term}`);
        }
        if (this.disableProposalForwarding) {
          this.logger.info(`${this.id} not forwarding to leader ${this.lead} at term ${this.term}; dropping proposal`);
          throw new RaftError("ProposalDropped", `proposal forwarding is disabled (leader is ${this.lead})`);
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.MsgAppend:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.MsgHeartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.MsgSnapshot:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.MsgTransferLeader:
        if (this.lead === 0) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping leader transfer msg`);
          return;
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.MsgTimeoutNow:
        // The leader asked us to take over: skip pre-vote and the lease check (thesis §3.10).
        this.logger.info(`${this.id} [term ${this.term}] received MsgTimeoutNow from ${m.from} and starts an election to get leadership`);
        this.hup("CampaignTransfer");
        return;
      case MessageType.MsgReadIndex:
        if (this.lead === 0) {
          this.logger.info(`${this.id} no leader at term ${this.term}; dropping index reading msg`);
          throw new RaftError("ProposalDropped", `no leader at term ${this.term}; dropping index reading msg`);
        }
        this.send({ ...m, to: this.lead, term: 0 });
        return;
      case MessageType.MsgReadIndexResp:
        if (m.entries.length !== 1) {
          this.logger.error(`${this.id} invalid format of MsgReadIndexResp from ${m.from}, entries count: ${m.entries.length}`);
          return;
        }
        this.readStates.push({ index: m.index, requestCtx: m.entries[0]!.data });
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Follower handlers

  /** §5.3: the consistency check, then append (truncating conflicts) and follow the commit. */
  handleAppendEntries(m: Message): void {
    if (m.index < this.raftLog.committed) {
      // Everything up to our commit index is already settled; tell the leader where we are.
      this.send({ to: m.from, type: MessageType.MsgAppendResponse, index: this.raftLog.committed });
      return;
    }
    const lastNew = this.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send({ to: m.from, type: MessageType.MsgAppendResponse, index: lastNew });
      return;
    }
    // Rejected. Hint the largest index at which our log may match the leader's: the last
    // index <= m.index whose term is <= m.logTerm. The leader then skips whole terms of
    // conflicting entries in one round trip instead of one entry per round trip.
    const hint = Math.min(m.index, this.raftLog.lastIndex());
    const [hintIndex, hintTerm] = this.raftLog.findConflictByTerm(hint, m.logTerm);
    this.logger.debug(
      `${this.id} [logterm: ${this.raftLog.termOrUndefined(m.index) ?? 0}, index: ${m.index}] rejected MsgAppend [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`,
    );
    this.send({
      to: m.from,
      type: MessageType.MsgAppendResponse,
      index: m.index,
      reject: true,
      rejectHint: hintIndex,
      logTerm: hintTerm,
    });
  }

  handleHeartbeat(m: Message): void {
    // The leader sends min(our match, its commit), so this never exceeds our log.
    this.raftLog.commitTo(m.commit);
    this.send({ to: m.from, type: MessageType.MsgHeartbeatResponse, context: m.context });
  }

  handleSnapshot(m: Message): void {
    const s = m.snapshot;
    if (!s) {
      this.logger.error(`${this.id} received MsgSnapshot without a snapshot from ${m.from}`);
      return;
    }
    const { index, term } = s.metadata;
    if (this.restore(s)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] restored snapshot [index: ${index}, term: ${term}]`);
      this.send({ to: m.from, type: MessageType.MsgAppendResponse, index: this.raftLog.lastIndex() });
    } else {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] ignored snapshot [index: ${index}, term: ${term}]`);
      this.send({ to: m.from, type: MessageType.MsgAppendResponse, index: this.raftLog.committed });
    }
  }

  /**
   * Reset the log and configuration to a snapshot. Returns false when the snapshot is not
   * needed (older than our commit, or our log already has its last entry: then we only
   * fast-forward the commit index).
   */
  restore(s: Snapshot): boolean {
    const { index, term, confState } = s.metadata;
    if (index <= this.raftLog.committed) return false;
    if (this.state !== "Follower") {
      // Only a leader of this term sends snapshots; a candidate hearing one became follower.
      this.logger.warn(`${this.id} attempted to restore snapshot as ${this.state}; should never happen`);
      this.becomeFollower(this.term + 1, 0);
      return false;
    }
    const found = confState.voters.includes(this.id) || confState.learners.includes(this.id);
    if (!found) {
      this.logger.warn(`${this.id} attempted to restore snapshot but it is not in the ConfState [${confState.voters.join(",")}]; should never happen`);
      return false;
    }
    if (this.raftLog.matchTerm(index, term)) {
      this.logger.info(`${this.id} [commit: ${this.raftLog.committed}] fast-forwarded commit to snapshot [index: ${index}, term: ${term}]`);
      this.raftLog.commitTo(index);
      return false;
    }
    this.raftLog.restore(s);
    const restored = restoreConfig(this.trk, confState, this.raftLog.lastIndex() + 1);
    this.switchToConfig(restored.config, restored.progress);
    return true;
  }

  // ---------------------------------------------------------------------------------------
  // Leader helpers used by raft-leader.ts

  /**
   * Append entries to the leader's log at the current term. Returns false (and appends
   * nothing) when the uncommitted-size limit would be exceeded.
   */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    const ents = es.map((e, i) => ({ ...e, term: this.term, index: li + 1 + i }));
    if (!this.increaseUncommittedSize(ents)) {
      this.logger.warn(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    li = this.raftLog.append(ents);
    // Acknowledge our own entries only once they are persisted (self-addressed, stepped
    // back in by RawNode.advance): the leader counts towards the commit quorum (§5.3) only
    // with entries that survive its crash.
    this.send({ to: this.id, type: MessageType.MsgAppendResponse, index: li });
    return true;
  }

  private increaseUncommittedSize(ents: Entry[]): boolean {
    let s = 0;
    for (const e of ents) s += payloadSize(e);
    if (this.maxUncommittedSize > 0 && this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) {
      // Always admit a proposal when nothing is outstanding, or a giant entry could never go.
      return false;
    }
    this.uncommittedSize += s;
    return true;
  }

  /** Committed entries of `bytes` payload were handed to the application. */
  reduceUncommittedSize(bytes: number): void {
    this.uncommittedSize = bytes > this.uncommittedSize ? 0 : this.uncommittedSize - bytes;
  }

  /** Whether the entry at the commit index is of the current term (thesis §6.4). */
  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.termOrUndefined(this.raftLog.committed) === this.term;
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = 0;
  }

  // ---------------------------------------------------------------------------------------
  // Membership

  /** Apply a committed membership change. Throws RaftError InvalidConfig, changing nothing. */
  applyConfChange(cc: ConfChange): ConfState {
    const { config, progress } = applyChange(this.trk, cc, this.raftLog.lastIndex());
    return this.switchToConfig(config, progress);
  }

  /** Install a new configuration and react to it: step down if removed, commit, catch up. */
  switchToConfig(config: ProgressTracker["config"], progress: ProgressTracker["progress"]): ConfState {
    this.trk.config = config;
    this.trk.progress = progress;
    this.logger.info(`${this.id} switched to configuration voters=(${this.trk.voterIds().join(" ")}) learners=(${this.trk.learnerIds().join(" ")})`);
    const cs = this.trk.confState();
    const pr = progress.get(this.id);
    this.isLearner = pr?.isLearner ?? false;
    if ((pr === undefined || this.isLearner) && this.state === "Leader") {
      // This leader was removed (or made a learner): it can no longer count itself.
      if (this.stepDownOnRemoval) this.becomeFollower(this.term, 0);
      return cs;
    }
    if (this.state !== "Leader" || cs.voters.length === 0) return cs;
    // A smaller quorum may commit more now; new members need their first appends.
    if (maybeCommit(this)) {
      bcastAppend(this);
    } else {
      for (const id of this.trk.memberIds()) if (id !== this.id) maybeSendAppend(this, id, false);
    }
    if (this.leadTransferee !== 0 && !this.trk.config.voters.has(this.leadTransferee)) this.abortLeaderTransfer();
    return cs;
  }

  // ---------------------------------------------------------------------------------------

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new RaftInvariantError(
        `${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]. Was the raft log corrupted, truncated, or lost?`,
      );
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }
}
