// The plain data types of the Raft core: entries, messages, hard/soft/conf state, snapshots.
//
// These mirror raft-rs's eraftpb messages field for field (in camelCase) so that the codec in
// runtime/codec can convert them to and from protobuf bytes without loss. The core itself
// never sees protobuf: it works only on these types. Indexes, terms and node ids are JS numbers
// and must be safe integers; the codec rejects anything larger at the gateway.
//
// This file must not import anything: it is the vocabulary every other file shares.

/** Kind of a log entry. Numbering follows eraftpb.EntryType. */
export const EntryType = {
  EntryNormal: 0,
  EntryConfChange: 1,
  EntryConfChangeV2: 2,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

/**
 * Message types, numbered exactly as raft-rs's eraftpb.MessageType (MsgHup = 0 ...
 * MsgRequestPreVoteResponse = 18). Local messages (MsgHup, MsgBeat, MsgUnreachable,
 * MsgSnapStatus, MsgCheckQuorum) never cross the network.
 */
export const MessageType = {
  MsgHup: 0,
  MsgBeat: 1,
  MsgPropose: 2,
  MsgAppend: 3,
  MsgAppendResponse: 4,
  MsgRequestVote: 5,
  MsgRequestVoteResponse: 6,
  MsgSnapshot: 7,
  MsgHeartbeat: 8,
  MsgHeartbeatResponse: 9,
  MsgUnreachable: 10,
  MsgSnapStatus: 11,
  MsgCheckQuorum: 12,
  MsgTransferLeader: 13,
  MsgTimeoutNow: 14,
  MsgReadIndex: 15,
  MsgReadIndexResp: 16,
  MsgRequestPreVote: 17,
  MsgRequestPreVoteResponse: 18,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Name of a message type ("MsgAppend"), for describe output and errors. */
export const messageTypeName: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(MessageType).map(([name, value]) => [value, name]),
);

/** Name of an entry type ("EntryNormal"). */
export const entryTypeName: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(EntryType).map(([name, value]) => [value, name]),
);

/** Kind of a single-step membership change. Numbering follows eraftpb.ConfChangeType. */
export const ConfChangeType = {
  /** Add a voter, or promote an existing learner to voter. */
  AddNode: 0,
  /** Remove a voter or a learner. */
  RemoveNode: 1,
  /** Add a learner (a non-voting member that receives the log). */
  AddLearnerNode: 2,
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

export const confChangeTypeName: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(ConfChangeType).map(([name, value]) => [value, name]),
);

/** One log entry. Invariant: index >= 1 and term >= 1 for every entry in a log. */
export interface Entry {
  type: EntryType;
  term: number;
  index: number;
  /** The application's command (EntryNormal) or an encoded ConfChange (EntryConfChange). */
  data: Uint8Array;
  /** Opaque to the core; the node layer puts the proposal id here. */
  context: Uint8Array;
}

/**
 * The state that must be on stable storage before any message that depends on it is sent:
 * the current term, the vote cast in it (0 = none) and the highest known committed index.
 */
export interface HardState {
  term: number;
  vote: number;
  commit: number;
}

/** Membership: who votes and who only learns. Ids are sorted ascending. */
export interface ConfState {
  voters: number[];
  learners: number[];
}

/** What a snapshot covers: the state machine through `index` (whose term is `term`). */
export interface SnapshotMetadata {
  confState: ConfState;
  index: number;
  term: number;
}

/**
 * A snapshot as the core sees it. The core never looks inside `data`; the node layer may
 * leave it empty and stream the real data out of band (DESIGN: snapshots are streamed).
 */
export interface Snapshot {
  data: Uint8Array;
  metadata: SnapshotMetadata;
}

/** A message between Raft peers (or a local message to the own node). */
export interface Message {
  type: MessageType;
  to: number;
  from: number;
  term: number;
  /** MsgAppend: term of the entry at `index` (the entry before `entries`). Votes: last log term. */
  logTerm: number;
  /** MsgAppend: index just before `entries`. Votes: last log index. Responses: see the handlers. */
  index: number;
  entries: Entry[];
  commit: number;
  /** Kept for wire compatibility with raft-rs; the core does not rely on it. */
  commitTerm: number;
  snapshot?: Snapshot;
  /** Kept for wire compatibility with raft-rs (request_snapshot); 0 = none. */
  requestSnapshot: number;
  reject: boolean;
  /** MsgAppendResponse rejection: the follower's hint for the next probe index. */
  rejectHint: number;
  /** Opaque bytes: campaign type on votes, request context on ReadIndex and heartbeats. */
  context: Uint8Array;
  /** Kept for wire compatibility with raft-rs; unused by the core. */
  priority: number;
}

/** An empty byte array, shared; never mutate it. */
export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** Build a message with every field defaulted; `type`, `to`/`from` come from `fields`. */
export function newMessage(fields: Partial<Message> & Pick<Message, "type">): Message {
  return {
    to: 0,
    from: 0,
    term: 0,
    logTerm: 0,
    index: 0,
    entries: [],
    commit: 0,
    commitTerm: 0,
    requestSnapshot: 0,
    reject: false,
    rejectHint: 0,
    context: EMPTY_BYTES,
    priority: 0,
    ...fields,
  };
}

/** Build an entry with defaults (EntryNormal, empty data and context). */
export function newEntry(fields: Partial<Entry> & Pick<Entry, "term" | "index">): Entry {
  return { type: EntryType.EntryNormal, data: EMPTY_BYTES, context: EMPTY_BYTES, ...fields };
}

/** A membership change proposal (single step). */
export interface ConfChange {
  type: ConfChangeType;
  nodeId: number;
  /** Opaque to the core (for example the new node's address). */
  context: Uint8Array;
}

/** Role of a node. */
export type StateRole = "Follower" | "Candidate" | "PreCandidate" | "Leader";

/** Volatile state that the application may want to observe; never persisted. */
export interface SoftState {
  /** The leader this node knows of, 0 when none. */
  leaderId: number;
  raftState: StateRole;
}

/**
 * The answer to a ReadIndex request: once the applied index reaches `index`, a read of the
 * local state machine is linearizable with respect to the moment `readIndex` was called.
 */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

/** The empty hard state; a node that has never voted and never seen a term. */
export const EMPTY_HARD_STATE: HardState = Object.freeze({ term: 0, vote: 0, commit: 0 });

export function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}

export function isEmptyHardState(hs: HardState): boolean {
  return hardStateEqual(hs, EMPTY_HARD_STATE);
}

export function isEmptySnapshot(s: Snapshot | undefined): boolean {
  return s === undefined || s.metadata.index === 0;
}

/** Size of an entry for flow-control purposes: the payload bytes plus a fixed overhead. */
export function entrySize(e: Entry): number {
  return e.data.length + e.context.length + 16;
}

/** Size of the payload only (etcd's "uncommitted size" counts data bytes). */
export function payloadSize(e: Entry): number {
  return e.data.length;
}

/** Whether a message type is one of the local messages that never travel on the network. */
export function isLocalMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgHup ||
    t === MessageType.MsgBeat ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgSnapStatus ||
    t === MessageType.MsgCheckQuorum
  );
}

/** Whether a message type is a response (it is allowed from peers not in the configuration). */
export function isResponseMessage(t: MessageType): boolean {
  return (
    t === MessageType.MsgAppendResponse ||
    t === MessageType.MsgRequestVoteResponse ||
    t === MessageType.MsgHeartbeatResponse ||
    t === MessageType.MsgUnreachable ||
    t === MessageType.MsgRequestPreVoteResponse
  );
}

/** The response type that answers a vote request of type `t`. */
export function voteResponseType(t: MessageType): MessageType {
  switch (t) {
    case MessageType.MsgRequestVote:
      return MessageType.MsgRequestVoteResponse;
    case MessageType.MsgRequestPreVote:
      return MessageType.MsgRequestPreVoteResponse;
    default:
      throw new Error(`not a vote message: ${messageTypeName[t] ?? t}`);
  }
}
