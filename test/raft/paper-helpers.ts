// Helpers for the Raft paper tests (paper.test.ts): build a single RawNode over a
// MemoryStorage that already holds a chosen log and hard state, drive its Ready cycle the
// way a driver would (persist, then collect what it sends, then advance), and craft the
// peer messages those tests feed it. Nothing here talks to a real peer: a test plays every
// other member of the cluster by hand, so it can decide exactly who answers what.
//
// This file must not hide behaviour under test: it never steps a message the test did not
// ask for, except the node's own self-addressed acknowledgements, which advance() steps in
// by contract.

import {
  type Entry,
  type HardState,
  type Message,
  MemoryStorage,
  MessageType,
  RawNode,
  type Ready,
  SeededRandom,
  type Config,
  describeMessage,
  newEntry,
  newMessage,
} from "../../runtime/raft/index.js";

export interface PeerOptions {
  /** Voters of the bootstrap configuration (default [1, 2, 3]). */
  voters?: number[];
  /** Terms of the entries already on stable storage, at indexes 1, 2, ... */
  logTerms?: number[];
  /** Hard state already on stable storage (term, vote, commit). */
  hardState?: Partial<HardState>;
  electionTick?: number;
  heartbeatTick?: number;
  seed?: number;
  config?: Partial<Config>;
}

/** One node under test together with its durable storage and what it applied. */
export interface Peer {
  id: number;
  node: RawNode;
  storage: MemoryStorage;
  /** Committed entries handed out for applying, in order. */
  applied: Entry[];
}

/** `n` voter ids 1..n. */
export function idsBySize(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

/** Entries at indexes 1.. with the given terms and empty data. */
export function logOf(terms: readonly number[]): Entry[] {
  return terms.map((term, i) => newEntry({ term, index: i + 1 }));
}

/** Start node `id` over a storage preloaded with `logTerms` and `hardState`. */
export function newPeer(id: number, opts: PeerOptions = {}): Peer {
  const storage = MemoryStorage.withPeers(opts.voters ?? [1, 2, 3]);
  storage.append(logOf(opts.logTerms ?? []));
  if (opts.hardState) storage.setHardState({ term: 0, vote: 0, commit: 0, ...opts.hardState });
  const node = new RawNode(
    {
      id,
      electionTick: opts.electionTick ?? 10,
      heartbeatTick: opts.heartbeatTick ?? 1,
      rand: new SeededRandom(opts.seed ?? id),
      ...opts.config,
    },
    storage,
  );
  return { id, node, storage, applied: [] };
}

/**
 * Run the node's Ready cycle until it has nothing more to hand out: persist entries and
 * hard state, record committed entries as applied, advance (which steps in the node's own
 * vote and append acknowledgements). Returns every message it sent, in order; the
 * messages that wait for persistence come after the others of the same Ready.
 */
export function drain(p: Peer): Message[] {
  const out: Message[] = [];
  for (let guard = 0; guard < 100 && p.node.hasReady(); guard++) out.push(...handleReady(p, p.node.ready()));
  if (p.node.hasReady()) throw new Error(`node ${p.id} keeps producing Readies`);
  return out;
}

/**
 * Act on one Ready taken by the test itself: persist, apply, advance. Returns the messages
 * it carried (those to send at once, then those that waited for persistence).
 */
export function handleReady(p: Peer, rd: Ready): Message[] {
  if (rd.snapshot) p.storage.applySnapshot(rd.snapshot);
  p.storage.append(rd.entries);
  if (rd.hardState) p.storage.setHardState(rd.hardState);
  p.applied.push(...rd.committedEntries);
  p.node.advance(rd);
  return [...rd.messages, ...rd.persistedMessages];
}

/** The follower's positive answer to a MsgAppend: it now holds everything the append carried. */
export function acceptAndReply(m: Message): Message {
  if (m.type !== MessageType.MsgAppend) throw new Error(`not a MsgAppend: ${describeMessage(m)}`);
  return newMessage({
    type: MessageType.MsgAppendResponse,
    from: m.to,
    to: m.from,
    term: m.term,
    index: m.index + m.entries.length,
  });
}

/** A vote response from `from` to `to` at `term`. */
export function voteResponse(from: number, to: number, term: number, granted: boolean): Message {
  return newMessage({ type: MessageType.MsgRequestVoteResponse, from, to, term, reject: !granted });
}

/**
 * Make `p` leader of its next term: campaign, persist its own vote, collect grants from
 * every other voter. Returns the messages it sent on becoming leader (its first appends).
 */
export function electLeader(p: Peer): Message[] {
  p.node.campaign();
  drain(p);
  const term = p.node.raft.term;
  for (const id of p.node.raft.trk.voterIds()) {
    if (id !== p.id) p.node.step(voteResponse(id, p.id, term, true));
  }
  if (p.node.raft.state !== "Leader") throw new Error(`node ${p.id} did not become leader`);
  return drain(p);
}

/**
 * Make `p` leader and have every follower acknowledge its empty entry, so that the entry is
 * committed and every follower is in Replicate. Returns nothing: the messages announcing the
 * new commit index are drained away.
 */
export function electLeaderAndCommitNoop(p: Peer): void {
  for (const m of electLeader(p)) if (m.type === MessageType.MsgAppend) p.node.step(acceptAndReply(m));
  drain(p);
  const r = p.node.raft;
  if (r.raftLog.committed !== r.raftLog.lastIndex()) throw new Error(`node ${p.id} did not commit its empty entry`);
}

/**
 * Deliver `initial` and everything it causes among `peers`, draining each peer after every
 * delivery. Messages to ids that are not in `peers` are dropped (those members are down).
 * Returns the number of messages delivered.
 */
export function exchange(peers: readonly Peer[], initial: readonly Message[]): number {
  const byId = new Map(peers.map((p) => [p.id, p]));
  const queue = [...initial];
  let delivered = 0;
  while (queue.length > 0) {
    if (++delivered > 10_000) throw new Error("exchange did not settle");
    const m = queue.shift()!;
    const to = byId.get(m.to);
    if (!to) continue;
    to.node.step(m);
    queue.push(...drain(to));
  }
  return delivered;
}

/** Messages sorted by recipient (then type), for comparisons independent of send order. */
export function byRecipient(msgs: readonly Message[]): Message[] {
  return [...msgs].sort((a, b) => a.to - b.to || a.type - b.type);
}

/** Compact "index/term" pairs of entries, for readable log comparisons. */
export function ids(ents: readonly Entry[]): string[] {
  return ents.map((e) => `${e.index}/${e.term}`);
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/**
 * Play followers that accept every MsgAppend sent to one of `acceptors`: answer, drain the
 * leader, and repeat until the leader sends them nothing more. Returns every message the
 * leader sent meanwhile.
 */
export function acceptAppendsUntilQuiet(leader: Peer, first: readonly Message[], acceptors: readonly number[]): Message[] {
  const all: Message[] = [];
  let msgs = [...first];
  for (let round = 0; round < 100; round++) {
    const appends = msgs.filter((m) => m.type === MessageType.MsgAppend && acceptors.includes(m.to));
    if (appends.length === 0) return all;
    for (const m of appends) leader.node.step(acceptAndReply(m));
    msgs = drain(leader);
    all.push(...msgs);
  }
  throw new Error("the leader kept sending appends");
}
