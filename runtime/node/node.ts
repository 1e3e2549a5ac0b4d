// RaftNode: the driver of one Raft node (DESIGN: Node semantics). It owns the RawNode and
// is the only place with timers, the Ready loop, I/O ordering and waiters (STYLE 7.2):
//
//   tick loop   every tickMs: rawNode.tick(), then schedule the Ready loop.
//   Ready loop  one at a time: send the leader's messages at once; persist entries and hard
//               state in ONE synced batch; only then send the persisted messages (votes,
//               append acks); answer ReadIndex rounds; apply committed entries as ONE batch
//               (effects + sessions + applied index); advance. Proposals and messages that
//               arrive while a batch is being written accumulate in the RawNode and go into
//               the next Ready together: that is the group commit.
//
// Proposals carry the id (node id, sequence) in the entry context; the waiter of a proposal
// is completed when the entry with that id is applied here, failed with Dropped when its log
// slot is applied with another id, or with Timeout. Reads use ReadIndex, batched: all
// linearizable reads that arrive while no round is being started share one round.
// Snapshots: every snapshotEntries applied entries the node records snapshot metadata and
// compacts the log; a follower that needs compacted entries gets the state streamed from a
// consistent view, with metadata rewritten to the index that view was applied through.
//
// Any storage failure or broken invariant stops the node (fatal); bad input never does.

import { randomInt } from "node:crypto";
import {
  type ConfChange,
  ConfChangeType,
  type ConfState,
  type Entry,
  EntryType,
  type Logger,
  type Message,
  MessageType,
  RawNode,
  type Ready,
  SeededRandom,
  type Status,
  decodeConfChange,
  discardLogger,
  isRaftError,
  messageTypeName,
} from "../raft/index.js";
import {
  type CommandEnvelope,
  type SessionRecord,
  decodeCommand,
  decodeMemberContext,
  decodeProposalId,
  decodeSession,
  encodeCommand,
  encodeMemberContext,
  encodeProposalId,
  encodeSession,
} from "./envelope.js";
import { NodeError, NodeFatalError } from "./errors.js";
import type { NodeMetrics, NodeSnapshotSource, NodeStorage, NodeTransport } from "./interfaces.js";
import { type StateMachine, type StateOp, StateStore } from "./state-machine.js";

/** The internal table holding member addresses (replicated, so snapshots carry it). */
export const MEMBERS_TABLE = "_raftgen_members";

export interface NodeConfig {
  id: number;
  clusterId: string;
  /** Initial members (id → gRPC address), including this node, for bootstrap and addresses. */
  peers: ReadonlyMap<number, string>;
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  preVote?: boolean;
  checkQuorum?: boolean;
  /** Record a snapshot and compact every this many applied entries. Default 10 000. */
  snapshotEntries?: number;
  /** Entries kept below a snapshot for slow followers to catch up by log. Default 1 000. */
  catchUpEntries?: number;
  maxSizePerMsg?: number;
  maxInflightMsgs?: number;
  /** Proposals waiting for their outcome before new ones are refused. Default 50 000. */
  maxPendingProposals?: number;
  proposalTimeoutMs?: number;
  readTimeoutMs?: number;
  logger?: Logger;
  metrics?: NodeMetrics;
}

export type Consistency = "linearizable" | "lease" | "stale";

/** An exactly-once session: a retried (clientId, seq) returns the first outcome. */
export interface Session {
  clientId: string;
  seq: number;
}

export interface CommandResult {
  output: Uint8Array;
  index: number;
}

interface Waiter {
  resolve(r: CommandResult): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  /** The log index this proposal got, when proposed on the leader. */
  index?: number;
  kind: "command" | "confchange";
}

interface PendingRead {
  name: string;
  payload: Uint8Array;
  resolve(r: CommandResult): void;
  reject(e: Error): void;
  timer: NodeJS.Timeout;
  done: boolean;
}

interface QueuedProposal {
  seq: number;
  data: Uint8Array;
  context: Uint8Array;
  resolve(r: CommandResult): void;
  reject(e: Error): void;
  timeoutMs: number;
}

type Outcome = { ok: true; output: Uint8Array } | { ok: false; error: NodeError };
type Completion = { seq: number; outcome: Outcome; index: number };

export class RaftNode {
  readonly id: number;
  readonly clusterId: string;
  private readonly raw: RawNode;
  private readonly store: StateStore;
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly members = new Map<number, string>();
  private readonly logger: Logger;
  private readonly metrics: NodeMetrics;
  private readonly cfg: Required<Omit<NodeConfig, "logger" | "metrics" | "peers">>;

  private ticker: NodeJS.Timeout | undefined;
  private scheduled = false;
  private running = false;
  private stopped = false;
  private fatalError: Error | undefined;
  private stopWaiters: (() => void)[] = [];
  private closing: Promise<void> | undefined;

  private proposalSeq = 0;
  private readonly waiters = new Map<number, Waiter>();
  /** Proposals waiting for the next Ready loop pass (see flushProposals). */
  private queued: QueuedProposal[] = [];
  /** Expected log index → proposal seq, for proposals made while leader. */
  private readonly byIndex = new Map<number, number>();

  private readSeq = 0;
  private pendingReads: PendingRead[] = [];
  private readonly readRounds = new Map<string, PendingRead[]>();
  /** Reads whose read index is known, waiting for applied >= index. */
  private readyReads: { index: number; reads: PendingRead[] }[] = [];

  private confState: ConfState;
  private lastSnapshotIndex: number;
  /**
   * Verified snapshot data received from leaders, by snapshot index, waiting for Raft to
   * hand out the matching Ready.snapshot. Several may be in flight (a rejected older one must
   * not replace an accepted newer one); those at or below an installed index are dropped.
   */
  private readonly staged = new Map<number, Uint8Array[]>();
  private leaderId = 0;
  private leaderWatchers: (() => void)[] = [];

  private constructor(
    config: NodeConfig,
    private readonly storage: NodeStorage,
    private readonly transport: NodeTransport,
    private readonly sm: StateMachine,
  ) {
    this.id = config.id;
    this.clusterId = config.clusterId;
    this.logger = config.logger ?? discardLogger;
    this.metrics = config.metrics ?? {};
    this.cfg = {
      id: config.id,
      clusterId: config.clusterId,
      tickMs: config.tickMs ?? 100,
      electionTicks: config.electionTicks ?? 10,
      heartbeatTicks: config.heartbeatTicks ?? 2,
      preVote: config.preVote ?? true,
      checkQuorum: config.checkQuorum ?? true,
      snapshotEntries: config.snapshotEntries ?? 10_000,
      catchUpEntries: config.catchUpEntries ?? 1_000,
      // 128 KiB: a probe to a restarted follower resends one message per heartbeat answer,
      // and 1 MiB ones kept the leader busy encoding long enough to miss heartbeats.
      maxSizePerMsg: config.maxSizePerMsg ?? 128 * 1024,
      maxInflightMsgs: config.maxInflightMsgs ?? 256,
      maxPendingProposals: config.maxPendingProposals ?? 50_000,
      proposalTimeoutMs: config.proposalTimeoutMs ?? 5_000,
      readTimeoutMs: config.readTimeoutMs ?? 5_000,
    };
    this.store = new StateStore([MEMBERS_TABLE, ...sm.tables]);
    this.raw = new RawNode(
      {
        id: config.id,
        electionTick: this.cfg.electionTicks,
        heartbeatTick: this.cfg.heartbeatTicks,
        preVote: this.cfg.preVote,
        checkQuorum: this.cfg.checkQuorum,
        maxSizePerMsg: this.cfg.maxSizePerMsg,
        maxInflightMsgs: this.cfg.maxInflightMsgs,
        applied: storage.appliedIndex(),
        rand: new SeededRandom(randomInt(2 ** 31)),
        logger: this.logger,
      },
      storage,
    );
    this.confState = storage.initialState().confState;
    this.lastSnapshotIndex = storage.firstIndex() - 1;
    for (const [id, address] of config.peers) this.members.set(id, address);
  }

  /** Start a node over an opened storage and an unstarted transport. */
  static async start(config: NodeConfig, storage: NodeStorage, transport: NodeTransport, sm: StateMachine): Promise<RaftNode> {
    const node = new RaftNode(config, storage, transport, sm);
    await node.loadState();
    node.transport.start({
      onMessage: (m) => node.onMessage(m),
      onSnapshot: (m, data) => node.onSnapshot(m, data),
      onUnreachable: (id) => node.raw.reportUnreachable(id),
      onSnapshotStatus: (id, status) => {
        node.metrics.snapshotSent?.(status);
        if (!node.stopped) node.raw.reportSnapshot(id, status);
        node.schedule();
      },
    });
    node.ticker = setInterval(() => node.onTick(), node.cfg.tickMs);
    node.schedule();
    return node;
  }

  private async loadState(): Promise<void> {
    this.store.clear();
    this.sessions.clear();
    const { ops, sessions } = await this.storage.loadState();
    this.store.applyOps(ops);
    for (const s of sessions) this.sessions.set(s.clientId, decodeSession(s.record));
    // Addresses: the replicated members table wins over the static configuration.
    for (const [key, value] of this.store.entries(MEMBERS_TABLE)) {
      this.members.set(Number(key), new TextDecoder().decode(value));
    }
    for (const [id, address] of this.members) {
      if (id !== this.id && address) this.transport.addPeer(id, address);
    }
  }

  // ---------------------------------------------------------------------------------------
  // Public API

  /** Propose a command; resolves with the handler's output once applied on this node. */
  propose(command: string, payload: Uint8Array, session?: Session, timeoutMs = this.cfg.proposalTimeoutMs): Promise<CommandResult> {
    this.checkRunning();
    if (!this.sm.hasCommand(command)) return Promise.reject(new NodeError("InvalidArgument", `unknown command ${JSON.stringify(command)}`));
    const bad = this.checkInput(() => this.sm.checkCommand?.(command, payload));
    if (bad) return Promise.reject(bad);
    if (this.waiters.size + this.queued.length >= this.cfg.maxPendingProposals) {
      return Promise.reject(new NodeError("Timeout", `too many pending proposals (${this.waiters.size}); retry later`));
    }
    const env: CommandEnvelope = {
      command,
      payload,
      clientId: session?.clientId ?? "",
      clientSeq: session?.seq ?? 0,
      timestampMs: Date.now(),
    };
    const seq = ++this.proposalSeq;
    return new Promise<CommandResult>((resolve, reject) => {
      this.queued.push({ seq, data: encodeCommand(env), context: encodeProposalId({ node: this.id, seq }), resolve, reject, timeoutMs });
      this.schedule();
    });
  }

  /** Run the state machine's optional payload check; its error, as InvalidArgument. */
  private checkInput(check: () => void): NodeError | undefined {
    try {
      check();
      return undefined;
    } catch (err) {
      return new NodeError("InvalidArgument", err instanceof Error ? err.message : String(err), {}, { cause: err });
    }
  }

  /**
   * Hand the queued proposals to Raft as one batch (one MsgPropose, one broadcast): every
   * proposal that arrived since the last Ready goes into the next one together.
   */
  private flushProposals(): void {
    if (this.queued.length === 0) return;
    const batch = this.queued;
    this.queued = [];
    try {
      this.raw.proposeBatch(batch);
    } catch (err) {
      if (!isRaftError(err, "ProposalDropped")) throw err;
      const e = this.notLeader(err.message);
      for (const p of batch) p.reject(e);
      return;
    }
    // On a leader the batch took the last batch.length slots of the log.
    const leader = this.raw.raft.state === "Leader";
    let index = this.raw.raft.raftLog.lastIndex() - batch.length;
    for (const p of batch) {
      index++;
      this.addWaiter(p.seq, "command", p.timeoutMs, p.resolve, p.reject, leader ? index : undefined);
    }
  }

  /**
   * Wait for the outcome of proposal `seq`: settled when its entry is applied here (apply),
   * failed with Dropped when `index` (its slot, known when proposed as leader) is applied
   * with another entry, or with Timeout.
   */
  private addWaiter(
    seq: number,
    kind: Waiter["kind"],
    timeoutMs: number,
    resolve: (r: CommandResult) => void,
    reject: (e: Error) => void,
    index: number | undefined,
  ): void {
    const timer = setTimeout(() => {
      if (this.waiters.delete(seq)) {
        this.metrics.proposal?.("failed");
        reject(new NodeError("Timeout", `proposal ${this.id}:${seq} not applied within ${timeoutMs} ms; it may still be applied`));
      }
    }, timeoutMs);
    const w: Waiter = { resolve, reject, timer, kind };
    if (index !== undefined) {
      w.index = index;
      this.byIndex.set(index, seq);
    }
    this.waiters.set(seq, w);
  }

  /** Run a query with the given consistency. */
  query(name: string, payload: Uint8Array, consistency: Consistency = "linearizable", timeoutMs = this.cfg.readTimeoutMs): Promise<CommandResult> {
    this.checkRunning();
    if (!this.sm.hasQuery(name)) return Promise.reject(new NodeError("InvalidArgument", `unknown query ${JSON.stringify(name)}`));
    const bad = this.checkInput(() => this.sm.checkQuery?.(name, payload));
    if (bad) return Promise.reject(bad);
    if (consistency === "stale") return Promise.resolve(this.runQuery(name, payload));
    const r = this.raw.raft;
    if (consistency === "lease" && r.state === "Leader" && r.checkQuorum && r.committedEntryInCurrentTerm()) {
      // Leader lease (check-quorum keeps a cut-off leader from believing it still leads
      // beyond an election timeout): serve at the commit index without a heartbeat round.
      const index = r.raftLog.committed;
      if (r.raftLog.applied >= index) return Promise.resolve(this.runQuery(name, payload));
      return new Promise((resolve, reject) => {
        const read = this.newRead(name, payload, resolve, reject, timeoutMs);
        this.readyReads.push({ index, reads: [read] });
      });
    }
    return new Promise((resolve, reject) => {
      this.pendingReads.push(this.newRead(name, payload, resolve, reject, timeoutMs));
      this.schedule();
    });
  }

  private newRead(name: string, payload: Uint8Array, resolve: (r: CommandResult) => void, reject: (e: Error) => void, timeoutMs: number): PendingRead {
    const read: PendingRead = { name, payload, resolve, reject, done: false, timer: undefined as unknown as NodeJS.Timeout };
    read.timer = setTimeout(() => {
      if (read.done) return;
      read.done = true;
      reject(new NodeError("Timeout", `read not served within ${timeoutMs} ms`));
    }, timeoutMs);
    return read;
  }

  private runQuery(name: string, payload: Uint8Array): CommandResult {
    try {
      return { output: this.sm.query(name, payload, this.store), index: this.raw.raft.raftLog.applied };
    } catch (err) {
      throw new NodeError("CommandFailed", `query ${name} failed: ${(err as Error).message}`, {}, { cause: err });
    }
  }

  /** Add a learner (it receives the log but does not vote). */
  addLearner(nodeId: number, address: string): Promise<CommandResult> {
    return this.proposeConfChange({ type: ConfChangeType.AddLearnerNode, nodeId, context: encodeMemberContext(address) });
  }

  /** Add a voter directly. Prefer addLearner + promote, which keeps the quorum available. */
  addNode(nodeId: number, address: string): Promise<CommandResult> {
    return this.proposeConfChange({ type: ConfChangeType.AddNode, nodeId, context: encodeMemberContext(address) });
  }

  /** Promote a learner that has caught up with the leader's commit index. */
  promote(nodeId: number): Promise<CommandResult> {
    this.checkRunning();
    const r = this.raw.raft;
    if (r.state !== "Leader") return Promise.reject(this.notLeader("promote must be called on the leader"));
    const pr = r.trk.progress.get(nodeId);
    if (!pr || !pr.isLearner) return Promise.reject(new NodeError("FailedPrecondition", `node ${nodeId} is not a learner`));
    if (pr.match < r.raftLog.committed) {
      return Promise.reject(
        new NodeError("FailedPrecondition", `learner ${nodeId} is not caught up (match ${pr.match} < commit ${r.raftLog.committed}); retry later`),
      );
    }
    return this.proposeConfChange({ type: ConfChangeType.AddNode, nodeId, context: encodeMemberContext(this.members.get(nodeId) ?? "") });
  }

  removeNode(nodeId: number): Promise<CommandResult> {
    return this.proposeConfChange({ type: ConfChangeType.RemoveNode, nodeId, context: new Uint8Array() });
  }

  private proposeConfChange(cc: ConfChange): Promise<CommandResult> {
    this.checkRunning();
    const seq = ++this.proposalSeq;
    return new Promise<CommandResult>((resolve, reject) => {
      try {
        this.raw.proposeConfChange(cc, encodeProposalId({ node: this.id, seq }));
      } catch (err) {
        if (!isRaftError(err, "ProposalDropped")) throw err;
        // A leader refuses a change while another is pending; a follower knows no leader.
        reject(this.raw.raft.state === "Leader" ? new NodeError("FailedPrecondition", err.message) : this.notLeader(err.message));
        return;
      }
      const leader = this.raw.raft.state === "Leader";
      this.addWaiter(seq, "confchange", this.cfg.proposalTimeoutMs, resolve, reject, leader ? this.raw.raft.raftLog.lastIndex() : undefined);
      this.schedule();
    });
  }

  /** Hand leadership to `to`; resolves when `to` is leader (as seen from here). */
  transferLeader(to: number, timeoutMs = this.cfg.tickMs * this.cfg.electionTicks * 3): Promise<number> {
    this.checkRunning();
    if (this.raw.raft.state !== "Leader" && this.leaderId === 0) return Promise.reject(this.notLeader("no leader known"));
    this.raw.transferLeader(to);
    this.schedule();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(new NodeError("Timeout", `leadership did not move to ${to} within ${timeoutMs} ms (leader: ${this.leaderId})`));
      }, timeoutMs);
      const check = () => {
        if (this.leaderId === to) {
          clearTimeout(timer);
          off();
          resolve(to);
        }
      };
      const off = () => (this.leaderWatchers = this.leaderWatchers.filter((w) => w !== check));
      this.leaderWatchers.push(check);
      check();
    });
  }

  /**
   * The core's status plus the members' addresses, the index of the latest snapshot the
   * storage holds (0 when none) and, after a fatal error, its message.
   */
  status(): Status & { members: { id: number; address: string }[]; snapshotIndex: number; fatal?: string } {
    const s = this.raw.status();
    const members = [...this.members].sort((a, b) => a[0] - b[0]).map(([id, address]) => ({ id, address }));
    return { ...s, members, snapshotIndex: this.snapshotIndex(), ...(this.fatalError ? { fatal: this.fatalError.message } : {}) };
  }

  /** Index of the latest snapshot in the storage (what a lagging follower would be sent). */
  private snapshotIndex(): number {
    try {
      return this.storage.snapshot(0, 0).metadata.index;
    } catch {
      // A storage that cannot describe its snapshot right now: the last one this node took.
      return Math.max(0, this.lastSnapshotIndex);
    }
  }

  /** The leader's id and address as far as this node knows (0 / "" when unknown). */
  leader(): { id: number; address: string } {
    return { id: this.leaderId, address: this.members.get(this.leaderId) ?? "" };
  }

  isLeader(): boolean {
    return this.raw.raft.state === "Leader";
  }

  memberAddress(id: number): string | undefined {
    return this.members.get(id);
  }

  /** The error that stopped the node, if any. */
  fatal(): Error | undefined {
    return this.fatalError;
  }

  /** Stop ticking, fail all waiters with Stopped, close the transport and the storage. */
  async stop(): Promise<void> {
    // A node that stopped itself (die) still closes its storage here.
    this.closing ??= (async () => {
      this.stopped = true;
      if (this.ticker) clearInterval(this.ticker);
      this.transport.close();
      if (this.running) await new Promise<void>((r) => this.stopWaiters.push(r));
      this.failAll(new NodeError("Stopped", "node is stopping"));
      await this.storage.close();
    })();
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------
  // Inputs

  private checkRunning(): void {
    if (this.stopped) throw new NodeError("Stopped", this.fatalError ? `node stopped: ${this.fatalError.message}` : "node is stopped");
  }

  private notLeader(why: string): NodeError {
    const leader = this.leader();
    return new NodeError("NotLeader", `not the leader (${why})`, { leaderId: leader.id, leaderAddress: leader.address });
  }

  private onTick(): void {
    if (this.stopped) return;
    this.raw.tick();
    this.schedule();
  }

  private onMessage(m: Message): void {
    if (this.stopped) return;
    try {
      this.raw.step(m);
    } catch (err) {
      if (isRaftError(err)) {
        this.logger.debug(`node ${this.id}: ${messageTypeName[m.type]} from ${m.from} not taken: ${err.message}`);
      } else {
        this.die(err);
        return;
      }
    }
    this.schedule();
  }

  private async onSnapshot(m: Message, data: AsyncIterable<Uint8Array>): Promise<void> {
    if (this.stopped) throw new NodeError("Stopped", "node is stopped");
    const chunks: Uint8Array[] = [];
    for await (const c of data) chunks.push(c);
    // Check the data before Raft sees the message: once Raft has taken the snapshot, data that
    // cannot be installed would stop the node, and input from the network must never do that.
    // The rejection reaches the sender as a refused snapshot; the leader sends another.
    await this.storage.verifySnapshot?.(m.snapshot!.metadata, iterate(chunks));
    if (this.stopped) throw new NodeError("Stopped", "node is stopped");
    this.staged.set(m.snapshot!.metadata.index, chunks);
    // Keep memory bounded: at most a few received snapshots wait at a time.
    while (this.staged.size > 4) this.staged.delete(Math.min(...this.staged.keys()));
    this.metrics.snapshotReceived?.();
    this.onMessage(m);
  }

  /** Run the Ready loop soon (coalescing many inputs into one pass). */
  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.runReady();
    });
  }

  // ---------------------------------------------------------------------------------------
  // The Ready loop

  private async runReady(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      this.flushProposals();
      this.startReadRound();
      while (!this.stopped && this.raw.hasReady()) {
        await this.handleReady(this.raw.ready());
        this.flushProposals();
        this.startReadRound();
      }
    } catch (err) {
      this.die(err);
    } finally {
      this.running = false;
      for (const w of this.stopWaiters.splice(0)) w();
    }
  }

  private startReadRound(): void {
    if (this.pendingReads.length === 0) return;
    const reads = this.pendingReads;
    this.pendingReads = [];
    const ctx = new Uint8Array(12);
    const view = new DataView(ctx.buffer);
    view.setUint32(0, this.id);
    view.setFloat64(4, ++this.readSeq);
    try {
      this.raw.readIndex(ctx);
      this.readRounds.set(Buffer.from(ctx).toString("latin1"), reads);
      this.metrics.readIndexRound?.();
    } catch (err) {
      if (!isRaftError(err, "ProposalDropped")) throw err;
      const e = this.notLeader(err.message);
      for (const r of reads) this.finishRead(r, e);
    }
  }

  private async handleReady(rd: Ready): Promise<void> {
    if (rd.softState) this.onSoftState(rd.softState.leaderId);

    // 1. Messages that may go out at once (the leader's appends, heartbeats, votes requests).
    await this.sendMessages(rd.messages);

    // 2. Persist: snapshot data first (atomic install), then entries + hard state, synced.
    if (rd.snapshot) {
      const md = rd.snapshot.metadata;
      const staged = this.staged.get(md.index);
      if (!staged) {
        throw new NodeFatalError(`Ready carries snapshot ${md.index} but no matching snapshot data was received`);
      }
      for (const index of [...this.staged.keys()]) if (index <= md.index) this.staged.delete(index);
      await this.storage.installSnapshot(md, iterate(staged));
      await this.loadState();
      this.confState = md.confState;
      this.lastSnapshotIndex = md.index;
      this.completeReadsUpTo(md.index);
    }
    // A Ready whose only durable change is the commit index (no entries, same term and vote)
    // records it in its apply batch below instead of in a write of its own.
    const commitWithApply = rd.hardState !== undefined && !rd.mustSync && rd.entries.length === 0 && !rd.snapshot && rd.committedEntries.length > 0;
    if (!commitWithApply && (rd.entries.length > 0 || rd.hardState)) {
      const t0 = performance.now();
      await this.storage.persistReady({ entries: rd.entries, mustSync: rd.mustSync, ...(rd.hardState ? { hardState: rd.hardState } : {}) });
      this.metrics.observeFsyncSeconds?.((performance.now() - t0) / 1000);
    }

    // 3. Messages that promise durability.
    this.transport.send(rd.persistedMessages);

    // 4. ReadIndex answers: wait for applied >= index.
    for (const rs of rd.readStates) {
      const key = Buffer.from(rs.requestCtx).toString("latin1");
      const reads = this.readRounds.get(key);
      if (!reads) continue;
      this.readRounds.delete(key);
      this.readyReads.push({ index: rs.index, reads });
    }

    // 5. Apply, then advance; callers learn their outcome only after advance, so that
    //    whatever they do next sees the node's applied index past their command.
    const outcomes = rd.committedEntries.length > 0 ? await this.apply(rd.committedEntries, commitWithApply ? rd.hardState!.commit : undefined) : [];
    this.raw.advance(rd);
    this.complete(outcomes);
    this.completeReadsUpTo(this.raw.raft.raftLog.applied);
    await this.maybeSnapshot();
  }

  private async sendMessages(msgs: Message[]): Promise<void> {
    const normal: Message[] = [];
    for (const m of msgs) {
      if (m.type !== MessageType.MsgSnapshot) {
        normal.push(m);
        continue;
      }
      // The core chose the latest snapshot; send the state as of now instead, with the
      // metadata of the view the data comes from (STYLE 7.7: metadata records the index the
      // data was actually applied through).
      let source: NodeSnapshotSource;
      try {
        source = await this.storage.openSnapshotSource();
      } catch (err) {
        this.logger.warn(`node ${this.id}: cannot capture a snapshot for ${m.to}: ${(err as Error).message}`);
        this.raw.reportSnapshot(m.to, "failure");
        continue;
      }
      this.transport.sendSnapshot({ ...m, snapshot: { data: new Uint8Array(), metadata: source.metadata } }, () => source.chunks());
    }
    if (normal.length > 0) this.transport.send(normal);
  }

  private onSoftState(leaderId: number): void {
    if (leaderId !== this.leaderId) {
      const old = this.leaderId;
      this.leaderId = leaderId;
      this.logger.info(`node ${this.id}: leader ${old} -> ${leaderId} (term ${this.raw.raft.term})`);
      // Read rounds in flight through the old leader will not be answered: fail them fast
      // (reads are safe to retry).
      if (this.readRounds.size > 0) {
        const e = this.notLeader("leader changed during the read");
        for (const reads of this.readRounds.values()) for (const r of reads) this.finishRead(r, e);
        this.readRounds.clear();
      }
      for (const w of [...this.leaderWatchers]) w();
    }
    if (this.raw.raft.state !== "Leader") this.byIndex.clear();
  }

  private async apply(ents: Entry[], commit: number | undefined): Promise<Completion[]> {
    const t0 = performance.now();
    const ops: StateOp[] = [];
    const sessionWrites = new Map<string, { seq: number; record: Uint8Array }>();
    const outcomes: Completion[] = [];
    let confState: ConfState | undefined;

    for (const e of ents) {
      let id: ReturnType<typeof decodeProposalId>;
      try {
        id = decodeProposalId(e.context);
      } catch {
        id = undefined;
      }
      const mine = id !== undefined && id.node === this.id;
      // A proposal of ours that expected this slot but lost it to another entry: Dropped.
      const expected = this.byIndex.get(e.index);
      if (expected !== undefined) {
        this.byIndex.delete(e.index);
        if (!mine || id!.seq !== expected) {
          outcomes.push({ seq: expected, index: e.index, outcome: { ok: false, error: new NodeError("Dropped", `log index ${e.index} was taken by another entry (leader change)`) } });
        }
      }

      let outcome: Outcome | undefined;
      if (e.type === EntryType.EntryConfChange) {
        const r = this.applyConfChange(e, ops);
        outcome = r.outcome;
        if (r.confState) confState = r.confState;
      } else if (e.data.length === 0) {
        // The leader's empty entry, or a conf change the leader refused and replaced.
        if (mine && this.waiters.get(id!.seq)?.kind === "confchange") {
          outcome = { ok: false, error: new NodeError("FailedPrecondition", "another membership change is pending; retry later") };
        }
      } else {
        outcome = this.applyCommand(e, ops, sessionWrites);
      }
      if (mine && outcome) outcomes.push({ seq: id!.seq, index: e.index, outcome });
    }

    const last = ents[ents.length - 1]!;
    // Not awaited: the effects are in memory already, and the log they come from is durable,
    // so callers may have their answers while the batch is written (a crash before it lands
    // only means re-applying from the log). The storage runs writes in call order, so the
    // next Ready's write queues behind it; a failed write stops the node.
    this.storage
      .applyBatch({
      ops,
      sessions: [...sessionWrites].map(([clientId, w]) => ({ clientId, ...w })),
      appliedIndex: last.index,
      ...(commit !== undefined ? { commit } : {}),
      ...(confState ? { confState } : {}),
      })
      .catch((err: unknown) => this.die(err));
    if (confState) this.confState = confState;
    this.metrics.observeApplySeconds?.((performance.now() - t0) / 1000);
    return outcomes;
  }

  /** Settle the waiters of applied proposals. */
  private complete(outcomes: Completion[]): void {
    for (const { seq, outcome, index } of outcomes) {
      const w = this.waiters.get(seq);
      if (!w) continue;
      this.waiters.delete(seq);
      clearTimeout(w.timer);
      if (outcome.ok) {
        this.metrics.proposal?.("ok");
        w.resolve({ output: outcome.output, index });
      } else {
        this.metrics.proposal?.("failed");
        w.reject(outcome.error);
      }
    }
  }

  private applyCommand(e: Entry, ops: StateOp[], sessionWrites: Map<string, { seq: number; record: Uint8Array }>): Outcome {
    let env: CommandEnvelope;
    try {
      env = decodeCommand(e.data);
    } catch (err) {
      this.logger.error(`node ${this.id}: entry ${e.index} does not decode: ${(err as Error).message}; skipped on every node`);
      return { ok: false, error: new NodeError("InvalidArgument", (err as Error).message) };
    }
    if (env.clientId !== "") {
      const prev = this.sessions.get(env.clientId);
      if (prev && env.clientSeq <= prev.seq) {
        if (env.clientSeq === prev.seq) {
          return prev.ok ? { ok: true, output: prev.reply } : { ok: false, error: new NodeError("CommandFailed", prev.error) };
        }
        return { ok: false, error: new NodeError("FailedPrecondition", `session ${env.clientId}: sequence ${env.clientSeq} is older than the last applied ${prev.seq}`) };
      }
    }
    let outcome: Outcome;
    if (!this.sm.hasCommand(env.command)) {
      outcome = { ok: false, error: new NodeError("InvalidArgument", `unknown command ${JSON.stringify(env.command)}`) };
    } else {
      const tx = this.store.begin();
      try {
        const output = this.sm.apply(env.command, env.payload, tx, { index: e.index, term: e.term, timestamp: env.timestampMs });
        const txOps = tx.ops();
        for (const op of txOps) {
          if (op.table === MEMBERS_TABLE) throw new Error(`table ${MEMBERS_TABLE} is internal`);
        }
        this.store.applyOps(txOps);
        for (const op of txOps) ops.push(op);
        outcome = { ok: true, output };
      } catch (err) {
        outcome = { ok: false, error: new NodeError("CommandFailed", err instanceof Error ? err.message : String(err)) };
      }
    }
    if (env.clientId !== "") {
      const rec: SessionRecord = {
        seq: env.clientSeq,
        ok: outcome.ok,
        reply: outcome.ok ? outcome.output : new Uint8Array(),
        error: outcome.ok ? "" : outcome.error.message,
        index: e.index,
      };
      this.sessions.set(env.clientId, rec);
      sessionWrites.set(env.clientId, { seq: rec.seq, record: encodeSession(rec) });
    }
    return outcome;
  }

  private applyConfChange(e: Entry, ops: StateOp[]): { outcome: Outcome; confState?: ConfState } {
    let cc: ConfChange;
    try {
      cc = decodeConfChange(e.data);
    } catch (err) {
      return { outcome: { ok: false, error: new NodeError("InvalidArgument", `bad conf change: ${(err as Error).message}`) } };
    }
    let cs: ConfState;
    try {
      cs = this.raw.applyConfChange(cc);
    } catch (err) {
      if (isRaftError(err, "InvalidConfig")) return { outcome: { ok: false, error: new NodeError("FailedPrecondition", err.message) } };
      throw err;
    }
    const key = cc.nodeId;
    if (cc.type === ConfChangeType.RemoveNode) {
      this.members.delete(cc.nodeId);
      ops.push({ table: MEMBERS_TABLE, key, value: undefined });
      this.store.applyOps([{ table: MEMBERS_TABLE, key, value: undefined }]);
      if (cc.nodeId !== this.id) this.transport.removePeer(cc.nodeId);
    } else {
      let address = "";
      try {
        address = decodeMemberContext(cc.context);
      } catch {
        address = "";
      }
      address ||= this.members.get(cc.nodeId) ?? "";
      if (address) {
        this.members.set(cc.nodeId, address);
        const op: StateOp = { table: MEMBERS_TABLE, key, value: new TextEncoder().encode(address) };
        ops.push(op);
        this.store.applyOps([op]);
        if (cc.nodeId !== this.id) this.transport.addPeer(cc.nodeId, address);
      }
    }
    this.logger.info(`node ${this.id}: applied ${ConfChangeType.RemoveNode === cc.type ? "remove" : "add"} of ${cc.nodeId}: voters=[${cs.voters}] learners=[${cs.learners}]`);
    return { outcome: { ok: true, output: new TextEncoder().encode(JSON.stringify(cs)) }, confState: cs };
  }

  private completeReadsUpTo(applied: number): void {
    if (this.readyReads.length === 0) return;
    const keep: typeof this.readyReads = [];
    for (const batch of this.readyReads) {
      if (batch.index > applied) {
        keep.push(batch);
        continue;
      }
      for (const r of batch.reads) {
        if (r.done) continue;
        try {
          this.finishRead(r, undefined, this.runQuery(r.name, r.payload));
        } catch (err) {
          this.finishRead(r, err as Error);
        }
      }
    }
    this.readyReads = keep;
  }

  private finishRead(r: PendingRead, err: Error | undefined, result?: CommandResult): void {
    if (r.done) return;
    r.done = true;
    clearTimeout(r.timer);
    if (err) r.reject(err);
    else r.resolve(result!);
  }

  private async maybeSnapshot(): Promise<void> {
    const applied = this.raw.raft.raftLog.applied;
    if (applied - this.lastSnapshotIndex < this.cfg.snapshotEntries) return;
    const compactTo = Math.max(this.storage.firstIndex() - 1, applied - this.cfg.catchUpEntries);
    await this.storage.snapshotAndCompact(applied, this.confState, compactTo);
    this.lastSnapshotIndex = applied;
    this.logger.info(`node ${this.id}: snapshot at ${applied}, log compacted to ${compactTo}`);
  }

  private failAll(err: Error): void {
    for (const p of this.queued) p.reject(err);
    this.queued = [];
    for (const w of this.waiters.values()) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.waiters.clear();
    this.byIndex.clear();
    for (const r of this.pendingReads) this.finishRead(r, err);
    this.pendingReads = [];
    for (const reads of this.readRounds.values()) for (const r of reads) this.finishRead(r, err);
    this.readRounds.clear();
    for (const b of this.readyReads) for (const r of b.reads) this.finishRead(r, err);
    this.readyReads = [];
  }

  /** A storage failure or a broken invariant: stop, keep the reason. */
  private die(err: unknown): void {
    if (this.fatalError) return;
    this.fatalError = err instanceof Error ? err : new Error(String(err));
    this.logger.error(`node ${this.id}: stopping: ${this.fatalError.stack ?? this.fatalError.message}`);
    this.stopped = true;
    if (this.ticker) clearInterval(this.ticker);
    this.transport.close();
    this.failAll(new NodeError("Stopped", `node stopped: ${this.fatalError.message}`));
  }
}

async function* iterate(chunks: Uint8Array[]): AsyncIterable<Uint8Array> {
  for (const c of chunks) yield c;
}
