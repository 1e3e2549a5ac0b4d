// Shared harness of the Raft scenario tests (test/raft/scenarios/*.test.ts).
//
// `Cluster` is a synchronous in-memory network of RawNodes, in the spirit of
// test/raft/network.ts but with the extra control the scenarios need: a trace of every
// message that left a node (delivered or dropped), per-link cuts, a drop predicate,
// selective delivery of queued messages, restarts over the same MemoryStorage, and a record
// of snapshots installed and conf-change errors. Every node is driven exactly as the Ready
// contract says: messages may go out at once; snapshot, entries and hard state are persisted
// into the node's MemoryStorage before `persistedMessages` are queued; committed entries are
// applied (conf changes through applyConfChange, whose ConfState is persisted); then advance.
//
// Nothing here asserts: the tests do. The helpers only make scenarios short to write.

import {
  type Config,
  ConfChangeType,
  type ConfChange,
  decodeConfChange,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MemoryStorage,
  MessageType,
  newEntry,
  newMessage,
  RaftError,
  RawNode,
  type Ready,
  type ReadState,
  SeededRandom,
  type Snapshot,
  isRaftError,
  messageTypeName,
} from "../../../runtime/raft/index.js";

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** One node of the cluster and what its driver has observed. */
export interface SimNode {
  id: number;
  node: RawNode;
  storage: MemoryStorage;
  /** Every committed entry applied so far, in order (kept across restarts). */
  applied: Entry[];
  /** Index of the last applied entry or installed snapshot. */
  appliedIndex: number;
  readStates: ReadState[];
  /** Snapshots installed from a Ready, in order. */
  snapshots: Snapshot[];
  /** RaftErrors thrown by applyConfChange (the change was refused; nothing changed). */
  confErrors: RaftError[];
}

export interface ClusterOptions {
  /** Voters at bootstrap (default [1, 2, 3]). */
  voters?: number[];
  learners?: number[];
  /** Extra config for every node. */
  config?: Partial<Config>;
  /** Per-node config overrides. */
  configFor?: (id: number) => Partial<Config>;
  /** The storage a node starts on (default: a fresh MemoryStorage with the voters/learners). */
  storageFor?: (id: number) => MemoryStorage;
  seed?: number;
}

/** A message that left a node, and whether the network delivered it. */
export interface Traced {
  m: Message;
  delivered: boolean;
}

const byId = (a: number, b: number) => a - b;

export class Cluster {
  readonly nodes = new Map<number, SimNode>();
  /** Messages waiting for delivery, in send order. */
  queue: Message[] = [];
  /** Every message handed to deliverOne(), in order. */
  trace: Traced[] = [];
  /** RaftErrors thrown when a message was stepped (e.g. a forwarded proposal dropped). */
  stepErrors: RaftError[] = [];
  /** An extra drop rule; a message for which it returns true is dropped. */
  dropIf: ((m: Message) => boolean) | undefined = undefined;
  /**
   * Report the outcome of every MsgSnapshot to its sender as a transport would: "finish"
   * once delivered, "failure" when dropped. Off by default so that tests can report by hand.
   */
  autoReportSnapshots = false;
  /**
   * Safety checks run on every Ready (they throw at once): Election Safety, at most one
   * leader per term (Raft §5.2), and State Machine Safety, no two nodes apply different
   * entries at the same index (§5.4.3). Keyed by term / by index.
   */
  private readonly leaderOfTerm = new Map<number, number>();
  private readonly appliedTermAt = new Map<number, { term: number; data: string; by: number }>();
  private cuts = new Set<string>();
  private readonly seed: number;

  constructor(private readonly opts: ClusterOptions = {}) {
    this.seed = opts.seed ?? 1;
    const voters = opts.voters ?? [1, 2, 3];
    const learners = opts.learners ?? [];
    for (const id of [...voters, ...learners]) {
      this.addNode(id, opts.storageFor?.(id) ?? MemoryStorage.withPeers(voters, learners));
    }
  }

  /** The config a node of this cluster gets (defaults, then cluster, per-node, extra). */
  configOf(id: number, extra: Partial<Config> = {}): Config {
    return {
      id,
      electionTick: 10,
      heartbeatTick: 1,
      rand: new SeededRandom(this.seed * 1000 + id),
      ...this.opts.config,
      ...(this.opts.configFor?.(id) ?? {}),
      ...extra,
    };
  }

  /** Start a node on `storage` (a fresh one joining). */
  addNode(id: number, storage: MemoryStorage, extra: Partial<Config> = {}): SimNode {
    const node = new RawNode(this.configOf(id, extra), storage);
    const n: SimNode = {
      id,
      node,
      storage,
      applied: [],
      appliedIndex: node.raft.raftLog.applied,
      readStates: [],
      snapshots: [],
      confErrors: [],
    };
    this.nodes.set(id, n);
    return n;
  }

  /**
   * Crash and restart node `id` over its MemoryStorage (which holds exactly what was
   * persisted). Volatile state is lost; by default the node is told its applied index, as a
   * driver with a durable state machine would.
   */
  restart(id: number, extra: Partial<Config> = {}): SimNode {
    const old = this.node(id);
    old.node = new RawNode(this.configOf(id, { applied: old.appliedIndex, ...extra }), old.storage);
    old.appliedIndex = old.node.raft.raftLog.applied;
    return old;
  }

  node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: number) {
    return this.node(id).node.raft;
  }

  ids(): number[] {
    return [...this.nodes.keys()].sort(byId);
  }

  /** Cut both directions between a and b. */
  cut(a: number, b: number): void {
    this.cuts.add(`${a}->${b}`);
    this.cuts.add(`${b}->${a}`);
  }

  /** Cut one direction only. */
  cutOneWay(from: number, to: number): void {
    this.cuts.add(`${from}->${to}`);
  }

  /** Cut `id` off from every other node. */
  isolate(id: number): void {
    for (const other of this.nodes.keys()) if (other !== id) this.cut(id, other);
  }

  /** Restore both directions between a and b. */
  mend(a: number, b: number): void {
    this.cuts.delete(`${a}->${b}`);
    this.cuts.delete(`${b}->${a}`);
  }

  /** Restore every link and clear the drop rule. */
  heal(): void {
    this.cuts.clear();
    this.dropIf = undefined;
  }

  /** Process one Ready of node `id` as a driver would. Returns it, or undefined if none. */
  processReady(id: number): Ready | undefined {
    const n = this.node(id);
    if (!n.node.hasReady()) return undefined;
    const rd = n.node.ready();
    const r = n.node.raft;
    if (r.state === "Leader") {
      const other = this.leaderOfTerm.get(r.term);
      if (other !== undefined && other !== id) {
        throw new Error(`election safety violated: ${other} and ${id} both lead term ${r.term}`);
      }
      this.leaderOfTerm.set(r.term, id);
    }
    this.queue.push(...rd.messages);
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.snapshots.push(rd.snapshot);
      n.appliedIndex = rd.snapshot.metadata.index;
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    this.queue.push(...rd.persistedMessages);
    n.readStates.push(...rd.readStates);
    for (const e of rd.committedEntries) {
      const seen = this.appliedTermAt.get(e.index);
      const data = str(e.data);
      if (seen && (seen.term !== e.term || seen.data !== data)) {
        throw new Error(
          `state machine safety violated at index ${e.index}: ${seen.by} applied ${seen.term}/${seen.data}, ${id} applies ${e.term}/${data}`,
        );
      }
      if (!seen) this.appliedTermAt.set(e.index, { term: e.term, data, by: id });
      n.applied.push(e);
      n.appliedIndex = e.index;
      if (e.type === EntryType.EntryConfChange) {
        try {
          n.storage.setConfState(n.node.applyConfChange(decodeConfChange(e.data)));
        } catch (err) {
          if (!isRaftError(err, "InvalidConfig")) throw err;
          n.confErrors.push(err);
        }
      }
    }
    n.node.advance(rd);
    return rd;
  }

  /** Process every node's Ready (ascending ids) until none has one. Delivers nothing. */
  processAll(): void {
    for (let guard = 0; guard < 100; guard++) {
      let any = false;
      for (const id of this.ids()) if (this.processReady(id)) any = true;
      if (!any) return;
    }
    throw new Error("processAll did not settle");
  }

  private dropped(m: Message): boolean {
    return this.cuts.has(`${m.from}->${m.to}`) || (this.dropIf?.(m) ?? false);
  }

  /** Deliver one message (unless cut or dropped), recording it in the trace. */
  deliverOne(m: Message): void {
    const n = this.nodes.get(m.to);
    const delivered = n !== undefined && !this.dropped(m);
    this.trace.push({ m, delivered });
    if (delivered) {
      try {
        n.node.step(m);
      } catch (err) {
        if (!isRaftError(err)) throw err;
        this.stepErrors.push(err);
      }
    }
    if (this.autoReportSnapshots && m.type === MessageType.MsgSnapshot && this.nodes.has(m.from)) {
      this.node(m.from).node.reportSnapshot(m.to, delivered ? "finish" : "failure");
    }
  }

  /** Deliver every queued message once (messages they cause stay queued). */
  deliverQueued(): Message[] {
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) this.deliverOne(m);
    return batch;
  }

  /** Remove queued messages matching `pred` and return them, undelivered. */
  take(pred: (m: Message) => boolean): Message[] {
    const out = this.queue.filter(pred);
    this.queue = this.queue.filter((m) => !pred(m));
    return out;
  }

  /** Deliver the queued messages matching `pred`; the others stay queued. */
  deliverIf(pred: (m: Message) => boolean): Message[] {
    const batch = this.take(pred);
    for (const m of batch) this.deliverOne(m);
    return batch;
  }

  /** Process Readies and deliver messages until the network is quiet. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      this.processAll();
      if (this.queue.length === 0) return;
      this.deliverQueued();
    }
    throw new Error("network did not stabilize");
  }

  /** Campaign on `id` and let the network settle. */
  elect(id: number): void {
    this.node(id).node.campaign();
    this.stabilize();
  }

  /** Tick node `id` n times, stabilizing after each tick. */
  tick(id: number, n = 1): void {
    for (let i = 0; i < n; i++) {
      this.node(id).node.tick();
      this.stabilize();
    }
  }

  /** Tick the given nodes n times (ascending ids), stabilizing after each round. */
  tickNodes(ids: number[], n: number): void {
    for (let i = 0; i < n; i++) {
      for (const id of [...ids].sort(byId)) this.node(id).node.tick();
      this.stabilize();
    }
  }

  /** Tick every node n times, stabilizing after each tick. */
  tickAll(n: number): void {
    for (let i = 0; i < n; i++) {
      for (const id of this.ids()) this.node(id).node.tick();
      this.stabilize();
    }
  }

  /** Ids of the nodes that are leader right now, ascending. */
  leaders(): number[] {
    return this.ids().filter((id) => this.raft(id).state === "Leader");
  }

  /** Tick every node until exactly one leader exists; returns it. */
  tickUntilOneLeader(maxTicks = 200): number {
    for (let i = 0; i < maxTicks; i++) {
      const ls = this.leaders();
      if (ls.length === 1) return ls[0]!;
      this.tickAll(1);
    }
    throw new Error(`no single leader after ${maxTicks} ticks (leaders: ${this.leaders().join(",")})`);
  }

  /** Messages in the trace matching `pred` (delivered or not). */
  sent(pred: (m: Message) => boolean): Message[] {
    return this.trace.filter((t) => pred(t.m)).map((t) => t.m);
  }

  /** Forget the trace (to count messages from a point on). */
  clearTrace(): void {
    this.trace = [];
  }

  /** Payloads of the non-empty normal entries node `id` applied, as strings. */
  appliedData(id: number): string[] {
    return this.node(id)
      .applied.filter((e) => e.type === EntryType.EntryNormal && e.data.length > 0)
      .map((e) => str(e.data));
  }

  /** The node's whole log (stable and unstable) as `term/index` pairs plus data. */
  logOf(id: number): string[] {
    return this.raft(id)
      .raftLog.allEntries()
      .map((e) => `${e.term}/${e.index}:${e.type === EntryType.EntryConfChange ? "cc" : str(e.data)}`);
  }

  /** Propose `data` on node `id` and stabilize. */
  propose(id: number, data: string): void {
    this.node(id).node.propose(text(data));
    this.stabilize();
  }
}

/** Match messages by type (and optionally from/to). */
export function isMsg(type: number, from?: number, to?: number): (m: Message) => boolean {
  return (m) => m.type === type && (from === undefined || m.from === from) && (to === undefined || m.to === to);
}

/** `Type from->to term` for compact assertion output. */
export function brief(m: Message): string {
  return `${messageTypeName[m.type]} ${m.from}->${m.to} t${m.term}${m.reject ? " rej" : ""}`;
}

/** Run fn and return the RaftError it throws (fails the caller's expectation otherwise). */
export function raftErrorOf(fn: () => void): RaftError | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof RaftError) return err;
    throw err;
  }
  return undefined;
}

/** Entries at consecutive indexes from `start` with the given terms. */
export function entriesWithTerms(terms: number[], start = 1): Entry[] {
  return terms.map((term, i) => newEntry({ term, index: start + i, data: text(`e${start + i}`) }));
}

/** `count` copies of `term`, for building logs: [...repeat(2, 5), ...repeat(3, 4)]. */
export function repeat(term: number, count: number): number[] {
  return new Array<number>(count).fill(term);
}

/** A MemoryStorage for `voters` holding `entries` and `hardState` (a node's durable past). */
export function storageWith(voters: number[], entries: Entry[], hardState: HardState, learners: number[] = []): MemoryStorage {
  const s = MemoryStorage.withPeers(voters, learners);
  s.append(entries);
  s.setHardState(hardState);
  return s;
}

export const addNode = (nodeId: number): ConfChange => ({ type: ConfChangeType.AddNode, nodeId, context: EMPTY_BYTES });
export const addLearner = (nodeId: number): ConfChange => ({
  type: ConfChangeType.AddLearnerNode,
  nodeId,
  context: EMPTY_BYTES,
});
export const removeNode = (nodeId: number): ConfChange => ({ type: ConfChangeType.RemoveNode, nodeId, context: EMPTY_BYTES });

/** A message as a peer would send it (every other field defaulted). */
export function msg(fields: Partial<Message> & Pick<Message, "type" | "from" | "to">): Message {
  return newMessage(fields);
}

export { MessageType, EntryType };
