// RawNode: the public, synchronous facade over Raft that a driver (runtime/node, the
// simulator, the datadriven tests) uses: tick / step / propose / ready / advance.
//
// Contract of the Ready cycle (etcd's Ready docs, in our words):
//   1. rd = node.ready() hands out everything new since the last Ready.
//   2. Send rd.messages at once: the leader's appends may go out while it persists them
//      (thesis §10.2.1) because the leader counts itself only after its own persistence.
//   3. Persist rd.snapshot, rd.entries and rd.hardState in ONE synced batch (mustSync says
//      whether fsync is required; it always is when entries or term/vote changed).
//   4. Only then send rd.persistedMessages: votes and append responses promise durability.
//   5. Apply rd.committedEntries (with rd.snapshot first, if any); for each EntryConfChange
//      call applyConfChange() and persist the returned ConfState.
//   6. node.advance(rd).
// One Ready may be outstanding at a time. step() and the other inputs may be called
// between ready() and advance(); what they produce comes in the next Ready.
//
// This file must not do I/O, read a clock, use timers or global randomness, or touch the
// host environment (boundaries.test.ts enforces it).

import type { Config } from "./config.js";
import { encodeConfChange } from "./confchange-codec.js";
import { RaftError, RaftInvariantError } from "./errors.js";
import { Raft } from "./raft.js";
import { getStatus, type Status } from "./status.js";
import type { Storage } from "./storage.js";
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
  hardStateEqual,
  isEmptyHardState,
  isLocalMessage,
  isResponseMessage,
  messageTypeName,
  newMessage,
  payloadSize,
} from "./types.js";

/** Outcome of sending a snapshot, reported by the driver through reportSnapshot(). */
export type SnapshotStatus = "finish" | "failure";

/** Everything the driver must act on, in the order of the contract above. */
export interface Ready {
  /** Role and leader, when they changed since the last Ready. Not persisted. */
  softState?: SoftState;
  /** Term, vote and commit, when they changed. Persist with `entries`, before persistedMessages. */
  hardState?: HardState;
  /** Answers to ReadIndex requests made on this node, in request order. */
  readStates: ReadState[];
  /** New log entries to persist (they may replace a suffix of the persisted log). */
  entries: Entry[];
  /** A snapshot to persist and install before applying anything else. */
  snapshot?: Snapshot;
  /** Entries committed and not yet handed out: apply them in order after persisting. */
  committedEntries: Entry[];
  /** Messages to send now, before or while persisting. */
  messages: Message[];
  /** Messages to send only after this Ready's entries, hard state and snapshot are durable. */
  persistedMessages: Message[];
  /** Whether the write of this Ready must be synced (fsync) before persistedMessages go out. */
  mustSync: boolean;
}

/** A Ready with nothing in it (for comparisons in tests). */
export function isEmptyReady(rd: Ready): boolean {
  return (
    rd.softState === undefined &&
    rd.hardState === undefined &&
    rd.snapshot === undefined &&
    rd.readStates.length === 0 &&
    rd.entries.length === 0 &&
    rd.committedEntries.length === 0 &&
    rd.messages.length === 0 &&
    rd.persistedMessages.length === 0
  );
}

export class RawNode {
  readonly raft: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;
  /** Self-addressed messages of the outstanding Ready, stepped in at advance(). */
  private stepsOnAdvance: Message[] = [];
  private outstanding: Ready | undefined = undefined;

  /**
   * Create a node over `storage` (which must already hold the bootstrap configuration, or
   * the state of a previous run).
   */
  constructor(config: Config, storage: Storage) {
    this.raft = new Raft(config, storage);
    this.prevSoftState = this.raft.softState();
    this.prevHardState = this.raft.hardState();
  }

  /** One tick of the logical clock (the driver calls it every tickMs). */
  tick(): void {
    this.raft.tick();
  }

  /** Start an election now (skipping the wait for the election timeout). */
  campaign(): void {
    this.raft.step(newMessage({ type: MessageType.MsgHup, from: this.raft.id }));
  }

  /**
   * Propose a command to be appended to the log. Throws RaftError ProposalDropped when it
   * cannot be taken now (no leader known, transfer in progress, size limit, ...); a taken
   * proposal may still be lost (leader change), which the driver detects by its id.
   */
  propose(data: Uint8Array, context: Uint8Array = EMPTY_BYTES): void {
    this.raft.step(
      newMessage({
        type: MessageType.MsgPropose,
        from: this.raft.id,
        entries: [{ type: EntryType.EntryNormal, term: 0, index: 0, data, context }],
      }),
    );
  }

  /**
   * Propose several commands at once, in order: one MsgPropose, one broadcast. All are taken
   * or none (ProposalDropped). A driver that collects concurrent proposals uses this.
   */
  proposeBatch(items: readonly { data: Uint8Array; context?: Uint8Array }[]): void {
    if (items.length === 0) return;
    this.raft.step(
      newMessage({
        type: MessageType.MsgPropose,
        from: this.raft.id,
        entries: items.map((it) => ({ type: EntryType.EntryNormal, term: 0, index: 0, data: it.data, context: it.context ?? EMPTY_BYTES })),
      }),
    );
  }

  /** Propose a single-step membership change; throws ProposalDropped while one is pending. */
  proposeConfChange(cc: ConfChange, context: Uint8Array = EMPTY_BYTES): void {
    this.raft.step(
      newMessage({
        type: MessageType.MsgPropose,
        from: this.raft.id,
        entries: [{ type: EntryType.EntryConfChange, term: 0, index: 0, data: encodeConfChange(cc), context }],
      }),
    );
  }

  /**
   * Apply a committed membership change (the driver calls this while applying the entry)
   * and return the new ConfState, which the driver persists. Throws RaftError InvalidConfig
   * for a change that cannot be applied (then nothing changed).
   */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /**
   * Hand a message from a peer to the node. Local message types are refused
   * (StepLocalMsg); responses from peers outside the configuration are ignored
   * (StepPeerNotFound).
   */
  step(m: Message): void {
    if (isLocalMessage(m.type)) {
      throw new RaftError("StepLocalMsg", `cannot step local message ${messageTypeName[m.type]} from ${m.from}`);
    }
    if (isResponseMessage(m.type) && !this.raft.trk.progress.has(m.from)) {
      throw new RaftError("StepPeerNotFound", `${messageTypeName[m.type]} from unknown peer ${m.from}`);
    }
    this.raft.step(m);
  }

  /**
   * Request a linearizable read barrier. `context` identifies the request and must be unique
   * among outstanding requests; the answer comes as a ReadState in a later Ready.
   */
  readIndex(context: Uint8Array): void {
    this.raft.step(
      newMessage({
        type: MessageType.MsgReadIndex,
        entries: [{ type: EntryType.EntryNormal, term: 0, index: 0, data: context, context: EMPTY_BYTES }],
      }),
    );
  }

  /** Ask the leader to hand leadership to `transferee` (forwarded when not leader). */
  transferLeader(transferee: number): void {
    this.raft.step(newMessage({ type: MessageType.MsgTransferLeader, from: transferee }));
  }

  /** The transport could not deliver to `id`: the leader stops optimistic replication to it. */
  reportUnreachable(id: number): void {
    try {
      this.raft.step(newMessage({ type: MessageType.MsgUnreachable, from: id }));
    } catch (err) {
      if (!(err instanceof RaftError)) throw err;
    }
  }

  /** Report whether the snapshot sent to `id` was delivered and installed. */
  reportSnapshot(id: number, status: SnapshotStatus): void {
    this.raft.step(newMessage({ type: MessageType.MsgSnapStatus, from: id, reject: status === "failure" }));
  }

  /** Whether ready() would return something to do. False while a Ready is outstanding. */
  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    const ss = r.softState();
    if (ss.leaderId !== this.prevSoftState.leaderId || ss.raftState !== this.prevSoftState.raftState) return true;
    const hs = r.hardState();
    if (!isEmptyHardState(hs) && !hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasNextUnstableSnapshot()) return true;
    if (r.msgs.length > 0 || r.msgsAfterAppend.length > 0) return true;
    if (r.raftLog.hasNextUnstableEnts() || r.raftLog.hasNextCommittedEnts(true)) return true;
    return r.readStates.length > 0;
  }

  /** Hand out everything new since the last Ready (see the contract at the top). */
  ready(): Ready {
    if (this.outstanding) {
      throw new RaftInvariantError("ready() called while a Ready is outstanding; call advance() first");
    }
    const r = this.raft;
    const entries = r.raftLog.nextUnstableEnts();
    const committedEntries = r.raftLog.nextCommittedEnts(true);
    const rd: Ready = {
      readStates: r.readStates,
      entries,
      committedEntries,
      messages: r.msgs,
      persistedMessages: r.msgsAfterAppend.filter((m) => m.to !== r.id),
      mustSync: false,
    };
    const ss = r.softState();
    if (ss.leaderId !== this.prevSoftState.leaderId || ss.raftState !== this.prevSoftState.raftState) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs;
      rd.mustSync = hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote;
      this.prevHardState = hs;
    }
    if (entries.length > 0) rd.mustSync = true;
    const snap = r.raftLog.nextUnstableSnapshot();
    if (snap) {
      rd.snapshot = snap;
      rd.mustSync = true;
    }

    // Accept: nothing handed out here is handed out again.
    this.stepsOnAdvance = r.msgsAfterAppend.filter((m) => m.to === r.id);
    r.msgs = [];
    r.msgsAfterAppend = [];
    r.readStates = [];
    r.raftLog.acceptUnstable();
    if (committedEntries.length > 0) r.raftLog.acceptApplying(committedEntries[committedEntries.length - 1]!.index);
    this.outstanding = rd;
    return rd;
  }

  /**
   * The driver has persisted, sent and applied `rd`. Marks its entries stable and applied,
   * and steps in this node's own acknowledgements (its vote, its appended entries).
   */
  advance(rd: Ready): void {
    if (this.outstanding !== rd) {
      throw new RaftInvariantError("advance() must be called with the Ready returned by the last ready()");
    }
    this.outstanding = undefined;
    const r = this.raft;
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1]!;
      r.raftLog.stableTo(last.index, last.term);
    }
    if (rd.committedEntries.length > 0) {
      const last = rd.committedEntries[rd.committedEntries.length - 1]!;
      r.raftLog.appliedTo(last.index);
      let bytes = 0;
      for (const e of rd.committedEntries) bytes += payloadSize(e);
      r.reduceUncommittedSize(bytes);
    } else if (rd.snapshot && rd.snapshot.metadata.index > r.raftLog.applied) {
      r.raftLog.appliedTo(rd.snapshot.metadata.index);
    }
    const steps = this.stepsOnAdvance;
    this.stepsOnAdvance = [];
    for (const m of steps) r.step(m);
  }

  /** A snapshot of the node's state for monitoring (/status) and tests. */
  status(): Status {
    return getStatus(this.raft);
  }
}
