// A simulated cluster of RawNodes, each with its durable storage and a driver that follows the
// Ready contract of runtime/raft/raw-node.ts: send Ready.messages, persist the snapshot,
// entries and hard state in one batch, then send Ready.persistedMessages, apply the committed
// entries, advance(). The driver is the model of runtime/node's loop that the schedule can
// interrupt: a crash may hit right after ready(), after the early messages went out, after
// the batch is durable, or half-way through applying, and loses exactly what was not durable.
//
// What is durable per node: its SimStorage (a MemoryStorage: log, hard state, ConfState,
// snapshot) and its state machine, an append-only list with one item per log index (the
// item of index i at sm[i - 1]), persisted together with each application, so the applied
// index is always sm.length. Index 1 is a bootstrap snapshot that every node of the universe
// starts from, carrying the initial voters; a node outside the configuration just idles until
// a leader adds it and replicates to it. A restart builds a new RawNode over the same storage
// with `applied` = sm.length. Snapshots are built from the applied state (the list, as JSON)
// when the schedule compacts a log and, lazily, when a leader asks its storage for one to send.
//
// Every operation on a node is followed by a call to the SafetyChecker, so a violation is
// reported at the step that caused it.
//
// This file must not use Math.random or Date and must not import a test framework.

import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Logger,
  MemoryStorage,
  type Message,
  MessageType,
  RawNode,
  type ReadOnlyOption,
  type ReadState,
  type Ready,
  SeededRandom,
  type Snapshot,
  confChangeTypeName,
  decodeConfChange,
  describeMessage,
  isRaftError,
  levelLogger,
} from "../../raft/index.js";
import { SafetyChecker, SafetyViolation, bytesToText } from "./checker.js";
import { Network, type NetworkFaults } from "./network.js";
import type { SimRandom } from "./random.js";
import type { Trace } from "./trace.js";

/** The Raft parameters every node of a simulated cluster runs with. */
export interface NodeParams {
  electionTick: number;
  heartbeatTick: number;
  preVote: boolean;
  checkQuorum: boolean;
  maxSizePerMsg: number;
  maxInflightMsgs: number;
  /** 0 = unlimited. */
  maxUncommittedEntriesSize: number;
  /**
   * How the leader serves ReadIndex (default "safe": a heartbeat round per request; schedules
   * never draw "lease-based"). Reads are checked only in "safe" mode (see Cluster.checkReads).
   */
  readOnlyOption?: ReadOnlyOption;
}

export interface ClusterSetup {
  /** Voters at bootstrap. */
  voters: number[];
  /** Every node id that exists (voters first, then spares that may join). */
  universe: number[];
  params: NodeParams;
  faults: NetworkFaults;
  /** Probability of delivering the oldest due message instead of a random one. */
  fifoRate: number;
}

/** Where a crash interrupts the driver. */
export type CrashPoint = "idle" | "after-ready" | "after-send" | "after-persist" | "mid-apply";

export const CRASH_POINTS: readonly CrashPoint[] = ["idle", "after-ready", "after-send", "after-persist", "mid-apply"];

/** The state machine item of the bootstrap snapshot (index 1). */
export const BOOT_ITEM = "1|boot";

export function encodeStateMachine(items: readonly string[]): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(items));
}

export function decodeStateMachine(data: Uint8Array): string[] {
  const v: unknown = JSON.parse(new TextDecoder().decode(data));
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new Error("snapshot data is not a list of items");
  return v as string[];
}

export function textBytes(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/**
 * A MemoryStorage that can build a snapshot on demand: when the leader asks for one to send
 * and the node has applied past the stored snapshot, a fresh one is made at the applied index
 * (STYLE's "a storage may build one lazily"). A node added after the last snapshot was taken
 * therefore always gets a snapshot whose ConfState contains it.
 */
class SimStorage extends MemoryStorage {
  lazySnapshots = 0;

  constructor(private readonly appliedItems: () => readonly string[]) {
    super();
  }

  override snapshot(requestIndex = 0, to = 0): Snapshot {
    const snap = super.snapshot(requestIndex, to);
    const items = this.appliedItems();
    if (items.length <= snap.metadata.index) return snap;
    this.lazySnapshots++;
    return this.createSnapshot(items.length, this.initialState().confState, encodeStateMachine(items));
  }
}

export class SimNode {
  /** The running RawNode; undefined while the node is down. */
  raw: RawNode | undefined = undefined;
  /** Durable state machine: the item applied at index i is sm[i - 1]. */
  sm: string[] = [BOOT_ITEM];
  /** Bumped at every crash. */
  incarnation = 0;
  readonly storage: SimStorage;

  constructor(
    readonly id: number,
    bootstrap: Snapshot,
  ) {
    this.storage = new SimStorage(() => this.sm);
    this.storage.applySnapshot(bootstrap);
  }

  get up(): boolean {
    return this.raw !== undefined;
  }
}

/** Counters for the run summary (and for the tests' coverage assertions). */
export interface ClusterStats {
  readies: number;
  delivered: number;
  lost: number;
  proposals: number;
  proposalsDropped: number;
  confChangesProposed: number;
  confChangesApplied: number;
  transfers: number;
  crashes: Record<CrashPoint, number>;
  restarts: number;
  compactions: number;
  snapshotsInstalled: number;
  snapshotsBuilt: number;
  partitions: number;
  /** readIndex calls a node took (and checked, when reads are checked). */
  reads: number;
  /** readIndex calls refused with ProposalDropped (no leader known). */
  readsDropped: number;
  /** ReadStates handed out in Readies and checked against the committed index of their request. */
  readStates: number;
  /** Of those, the ones a follower got from its leader (the read was forwarded). */
  readStatesForwarded: number;
  /** Reads served: the node applied up to the ReadState's index and its state was checked. */
  readsServed: number;
}

/** A ReadIndex request in flight, by context. */
interface PendingRead {
  /** The node the client asked. */
  node: number;
  step: number;
  /**
   * The highest index known committed anywhere when the read was requested: every entry up to
   * it was committed before the request, so the read must reflect it (thesis §6.4).
   */
  committedBefore: number;
}

/** A read whose ReadState arrived and that waits for its node to apply up to `index`. */
interface ServingRead {
  ctx: string;
  incarnation: number;
  index: number;
  committedBefore: number;
}


/** All-zero counters (a cluster starts with them; summaries add them up). */
export function emptyClusterStats(): ClusterStats {
  return {
    readies: 0,
    delivered: 0,
    lost: 0,
    proposals: 0,
    proposalsDropped: 0,
    confChangesProposed: 0,
    confChangesApplied: 0,
    transfers: 0,
    crashes: { idle: 0, "after-ready": 0, "after-send": 0, "after-persist": 0, "mid-apply": 0 },
    restarts: 0,
    compactions: 0,
    snapshotsInstalled: 0,
    snapshotsBuilt: 0,
    partitions: 0,
    reads: 0,
    readsDropped: 0,
    readStates: 0,
    readStatesForwarded: 0,
    readsServed: 0,
  };
}

/** A moment worth aiming a fault at: a node just became leader, or its commit index moved. */
export interface LeaderMoment {
  id: number;
  kind: "elected" | "committed";
}

interface PendingReport {
  from: number;
  to: number;
  kind: "snapshot-finish" | "snapshot-failure" | "unreachable";
}

export class Cluster {
  readonly nodes = new Map<number, SimNode>();
  /** Node ids, ascending. */
  readonly ids: readonly number[];
  readonly net: Network;
  readonly checker = new SafetyChecker();
  /** Logical time, in ticks. */
  now = 0;
  /** The schedule's step counter (for the trace). */
  step = 0;
  /** The configuration of the highest-index conf change any node applied (bootstrap: index 1). */
  latestConf: { index: number; voters: number[]; learners: number[] };
  readonly stats: ClusterStats = emptyClusterStats();
  /**
   * Drop messages from nodes outside the latest configuration, as a transport that knows the
   * membership does (etcd rejects messages from removed members). Off during the chaos phase,
   * so that removed nodes that have not learned it yet may campaign and disrupt (which safety
   * must survive); on for the liveness check, where they would only delay the verdict.
   */
  dropFromNonMembers = false;
  /** Final commands (liveness probes) -> the nodes that applied them. */
  readonly probeAppliedBy = new Map<string, Set<number>>();
  private pendingReports: PendingReport[] = [];
  private moments: LeaderMoment[] = [];
  private readonly leaderSeen = new Map<number, { term: number; incarnation: number; committed: number }>();
  /** ReadIndex requests by context (kept after their answer: a duplicate answer is checked too). */
  private readonly reads = new Map<string, PendingRead>();
  /** Per node: reads answered and waiting for the node to apply up to their index. */
  private readonly serving = new Map<number, ServingRead[]>();
  /**
   * Whether ReadStates are checked: only with the "safe" read-only option. A lease-based read
   * is only as good as the leader's lease, which the simulator does not keep: ticks drift, a
   * cut-off leader may step down only after a successor was elected, and a leader transfer's
   * MsgTimeoutNow bypasses the lease. Forced on where check-quorum is on, lease reads fail the
   * stale-read check (e.g. seeds 1254, 1266, 3890 of the default mix).
   */
  readonly checkReads: boolean;

  constructor(
    readonly setup: ClusterSetup,
    private readonly rand: SimRandom,
    readonly trace: Trace,
  ) {
    this.ids = [...setup.universe].sort((a, b) => a - b);
    this.checkReads = (setup.params.readOnlyOption ?? "safe") === "safe";
    this.net = new Network(rand, setup.faults);
    const voters = [...setup.voters].sort((a, b) => a - b);
    this.latestConf = { index: 1, voters, learners: [] };
    const bootstrap: Snapshot = {
      data: encodeStateMachine([BOOT_ITEM]),
      metadata: { index: 1, term: 1, confState: { voters, learners: [] } },
    };
    for (const id of this.ids) this.nodes.set(id, new SimNode(id, bootstrap));
    this.checker.observeInstall(0, [BOOT_ITEM]);
  }

  node(id: number): SimNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** Nodes that are up, ascending by id. */
  upNodes(): SimNode[] {
    return this.ids.map((id) => this.nodes.get(id)!).filter((n) => n.up);
  }

  /** Whether `id` is a voter or learner of the latest applied configuration. */
  isMember(id: number): boolean {
    return this.latestConf.voters.includes(id) || this.latestConf.learners.includes(id);
  }

  /** Record an event in the trace (formatted lazily when given a thunk). */
  ev(text: string | (() => string)): void {
    this.trace.add(this.step, this.now, text);
  }

  /** Run the safety checks on a node after an operation on it, and note leader moments. */
  observe(n: SimNode): void {
    const raw = n.raw;
    if (!raw) return;
    const r = raw.raft;
    const isLeader = r.state === "Leader";
    this.checker.observe(n.id, r.term, isLeader, r.raftLog);
    if (!isLeader) return;
    const seen = this.leaderSeen.get(n.id);
    const committed = r.raftLog.committed;
    if (!seen || seen.term !== r.term || seen.incarnation !== n.incarnation) {
      this.leaderSeen.set(n.id, { term: r.term, incarnation: n.incarnation, committed });
      this.moments.push({ id: n.id, kind: "elected" });
    } else if (committed > seen.committed) {
      seen.committed = committed;
      this.moments.push({ id: n.id, kind: "committed" });
    }
  }

  /** The leader moments noted since the last call (for faults aimed at them). */
  takeMoments(): LeaderMoment[] {
    const m = this.moments;
    this.moments = [];
    return m;
  }

  // -------------------------------------------------------------------------------------
  // Node lifecycle

  /** Start (or restart) a node from its durable storage. */
  start(n: SimNode): void {
    if (n.up) throw new Error(`node ${n.id} is already up`);
    const p = this.setup.params;
    let logger: Logger | undefined;
    if (this.trace.verbose) logger = levelLogger("info", (line) => this.trace.note(`      ${n.id}| ${line}`));
    n.raw = new RawNode(
      {
        id: n.id,
        electionTick: p.electionTick,
        heartbeatTick: p.heartbeatTick,
        rand: new SeededRandom(this.rand.fork()),
        preVote: p.preVote,
        checkQuorum: p.checkQuorum,
        maxSizePerMsg: p.maxSizePerMsg,
        maxInflightMsgs: p.maxInflightMsgs,
        maxUncommittedEntriesSize: p.maxUncommittedEntriesSize,
        readOnlyOption: p.readOnlyOption ?? "safe",
        applied: n.sm.length,
        logger,
      },
      n.storage,
    );
    const r = n.raw.raft;
    this.ev(`start ${n.id}: term ${r.term} vote ${r.vote} commit ${r.raftLog.committed} applied ${r.raftLog.applied} last ${r.raftLog.lastIndex()}`);
    this.observe(n);
  }

  /** Crash a node: everything not durable is gone. */
  crash(n: SimNode, point: CrashPoint): void {
    n.raw = undefined;
    n.incarnation++;
    this.checker.forgetNode(n.id);
    this.serving.delete(n.id); // its clients' reads fail with the process
    this.stats.crashes[point]++;
    this.ev(`crash ${n.id} (${point})`);
  }

  restart(n: SimNode): void {
    this.stats.restarts++;
    this.start(n);
  }

  // -------------------------------------------------------------------------------------
  // Time and the network

  /** One tick for every node that is up (each skipped with probability skipRate: clock drift). */
  tickAll(skipRate: number): void {
    this.now++;
    this.ev("tick");
    for (const id of this.ids) {
      const n = this.nodes.get(id)!;
      if (!n.raw || this.rand.chance(skipRate)) continue;
      n.raw.tick();
      this.observe(n);
    }
  }

  private send(m: Message): void {
    if (!this.nodes.has(m.to)) {
      this.ev(() => `drop ${describeMessage(m)}: no such node`);
      return;
    }
    const copies = this.net.send(m, this.now);
    if (copies === 0) {
      this.stats.lost++;
      this.ev(() => `lost on send: ${describeMessage(m)}`);
      if (m.type === MessageType.MsgSnapshot) this.pendingReports.push({ from: m.from, to: m.to, kind: "snapshot-failure" });
    } else if (copies === 2) {
      this.ev(() => `duplicated: ${describeMessage(m)}`);
    }
  }

  /** Deliver one due message. Returns false when nothing is due. */
  deliverOne(fifoRate = this.setup.fifoRate): boolean {
    const f = this.net.takeDue(this.now, fifoRate);
    if (!f) return false;
    const m = f.msg;
    const to = this.node(m.to);
    let lost: string | undefined;
    if (!to.raw) lost = "node down";
    else if (!this.net.connected(m.from, m.to)) lost = "partitioned";
    else if (this.dropFromNonMembers && !this.isMember(m.from)) lost = `${m.from} is not a member`;
    if (lost !== undefined) {
      this.stats.lost++;
      this.ev(() => `lost (${lost}): ${describeMessage(m)}`);
      if (m.type === MessageType.MsgSnapshot) this.pendingReports.push({ from: m.from, to: m.to, kind: "snapshot-failure" });
      else if (this.rand.chance(0.3)) this.pendingReports.push({ from: m.from, to: m.to, kind: "unreachable" });
      return true;
    }
    this.stats.delivered++;
    this.ev(() => `deliver ${describeMessage(m)}`);
    try {
      to.raw!.step(m);
    } catch (err) {
      if (!isRaftError(err, "StepPeerNotFound") && !isRaftError(err, "ProposalDropped")) throw err;
      this.ev(`  ${m.to} refused it: ${err.code}`);
    }
    this.observe(to);
    if (m.type === MessageType.MsgSnapshot) this.pendingReports.push({ from: m.from, to: m.to, kind: "snapshot-finish" });
    return true;
  }

  /**
   * Hand the transport's reports (snapshot delivered or lost, peer unreachable) to the
   * senders that are still up. Called at the end of every step.
   */
  flushReports(): void {
    while (this.pendingReports.length > 0) {
      const reports = this.pendingReports;
      this.pendingReports = [];
      for (const rep of reports) {
        const n = this.nodes.get(rep.from);
        if (!n?.raw) continue;
        this.ev(`report to ${rep.from}: ${rep.kind} ${rep.to}`);
        if (rep.kind === "unreachable") n.raw.reportUnreachable(rep.to);
        else n.raw.reportSnapshot(rep.to, rep.kind === "snapshot-finish" ? "finish" : "failure");
        this.observe(n);
      }
    }
  }

  // -------------------------------------------------------------------------------------
  // The driver

  /**
   * Run one Ready cycle on `n`, crashing at the given point if any (or at the point `crash`
   * picks after looking at the Ready). Returns false when the node had nothing to do.
   */
  processReady(
    n: SimNode,
    crash?: Exclude<CrashPoint, "idle"> | ((rd: Ready) => Exclude<CrashPoint, "idle"> | undefined),
  ): boolean {
    const raw = n.raw;
    if (!raw || !raw.hasReady()) return false;
    const rd = raw.ready();
    this.stats.readies++;
    this.ev(() => `ready ${n.id}: ${summarizeReady(rd)}`);
    // The core's answers to reads are checked as soon as it hands them out, whatever happens next.
    for (const rs of rd.readStates) this.readStateArrived(n, rs);
    const crashAt = typeof crash === "function" ? crash(rd) : crash;
    if (crashAt === "after-ready") return this.crashed(n, crashAt);

    // 1. Messages that may go out at once (the leader's appends, heartbeats...).
    for (const m of rd.messages) this.send(m);
    if (crashAt === "after-send") return this.crashed(n, crashAt);

    // 2. One durable batch: snapshot (with its state machine), entries, hard state.
    // (MemoryStorage.applySnapshot raises the stored term itself; compare with the hard state
    // as it was before the batch.)
    const durable = n.storage.initialState().hardState;
    if (rd.snapshot) this.installSnapshot(n, rd.snapshot);
    if (rd.entries.length > 0) n.storage.append(rd.entries);
    if (rd.hardState) {
      this.checkHardState(n, durable, rd.hardState);
      n.storage.setHardState(rd.hardState);
    }
    if (crashAt === "after-persist") return this.crashed(n, crashAt);

    // 3. Messages that promise durability (votes, append acknowledgements).
    for (const m of rd.persistedMessages) this.send(m);

    // 4. Apply, each entry durable together with the applied index.
    const upTo = crashAt === "mid-apply" ? this.rand.int(rd.committedEntries.length + 1) : rd.committedEntries.length;
    for (let k = 0; k < upTo; k++) this.applyEntry(n, rd.committedEntries[k]!);
    this.serveReads(n);
    if (crashAt === "mid-apply") return this.crashed(n, crashAt);

    raw.advance(rd);
    this.observe(n);
    return true;
  }

  private crashed(n: SimNode, point: CrashPoint): true {
    this.crash(n, point);
    return true;
  }

  /**
   * The durable hard state only moves forward: the term never decreases, a vote once cast is
   * never changed within its term (§5.2: "each server will vote for at most one candidate in a
   * given term"), and the commit index never decreases.
   */
  private checkHardState(n: SimNode, old: HardState, hs: HardState): void {
    if (hs.term < old.term) {
      throw new SafetyViolation("election safety", `node ${n.id} persists term ${hs.term} over term ${old.term}`);
    }
    if (hs.term === old.term && old.vote !== 0 && hs.vote !== old.vote) {
      throw new SafetyViolation("election safety", `node ${n.id} changes its vote in term ${hs.term} from ${old.vote} to ${hs.vote}`);
    }
    if (hs.commit < old.commit) {
      throw new SafetyViolation("state machine safety", `node ${n.id} persists commit ${hs.commit} over commit ${old.commit}`);
    }
  }

  private installSnapshot(n: SimNode, snap: Snapshot): void {
    const idx = snap.metadata.index;
    if (idx <= n.sm.length) {
      throw new SafetyViolation("driver contract", `node ${n.id} was handed a snapshot at ${idx}, but has applied ${n.sm.length}`);
    }
    const items = decodeStateMachine(snap.data);
    if (items.length !== idx) {
      throw new SafetyViolation("driver contract", `snapshot at ${idx} carries a state machine of ${items.length} items`);
    }
    n.storage.applySnapshot(snap);
    const before = n.sm.length;
    n.sm = items;
    this.stats.snapshotsInstalled++;
    this.checker.observeInstall(n.id, items);
    for (let k = before; k < items.length; k++) this.notePossibleProbe(n.id, items[k]!);
    this.ev(`  ${n.id} installed snapshot ${snap.metadata.term}/${idx} voters [${snap.metadata.confState.voters.join(",")}] learners [${snap.metadata.confState.learners.join(",")}]`);
  }

  private applyEntry(n: SimNode, e: Entry): void {
    if (e.index !== n.sm.length + 1) {
      throw new SafetyViolation("driver contract", `node ${n.id} was handed entry ${e.term}/${e.index} to apply, but has applied ${n.sm.length}`);
    }
    let item: string;
    if (e.type === EntryType.EntryConfChange) {
      let what = "undecodable";
      let outcome = "refused";
      try {
        const cc = decodeConfChange(e.data);
        what = `${confChangeTypeName[cc.type] ?? cc.type} ${cc.nodeId}`;
        const cs = n.raw!.applyConfChange(cc);
        n.storage.setConfState(cs);
        outcome = `voters [${cs.voters.join(",")}] learners [${cs.learners.join(",")}]`;
        this.noteConf(e.index, cs);
      } catch (err) {
        if (!isRaftError(err, "InvalidConfig")) throw err;
      }
      item = `${e.term}|${what} -> ${outcome}`;
    } else {
      item = `${e.term}|${bytesToText(e.data)}`;
    }
    n.sm.push(item);
    this.checker.observeApply(n.id, e.index, e.term, item);
    this.notePossibleProbe(n.id, item);
    if (e.type === EntryType.EntryConfChange) this.observe(n);
  }

  private notePossibleProbe(id: number, item: string): void {
    const bar = item.indexOf("|");
    const data = item.slice(bar + 1);
    if (!data.startsWith("probe-")) return;
    let set = this.probeAppliedBy.get(data);
    if (!set) {
      set = new Set();
      this.probeAppliedBy.set(data, set);
    }
    set.add(id);
  }

  private noteConf(index: number, cs: ConfState): void {
    if (index <= this.latestConf.index) return;
    this.latestConf = { index, voters: [...cs.voters], learners: [...cs.learners] };
    this.stats.confChangesApplied++;
    this.ev(`configuration at ${index}: voters [${cs.voters.join(",")}] learners [${cs.learners.join(",")}]`);
  }

  // -------------------------------------------------------------------------------------
  // Clients and operators

  /** A client proposes `command` at node `n`. Returns whether the node took it. */
  propose(n: SimNode, command: string): boolean {
    const raw = n.raw;
    if (!raw) return false;
    try {
      raw.propose(textBytes(command));
      this.stats.proposals++;
      this.ev(`propose ${command} at ${n.id}`);
      return true;
    } catch (err) {
      if (!isRaftError(err, "ProposalDropped")) throw err;
      this.stats.proposalsDropped++;
      this.ev(`propose ${command} at ${n.id}: dropped`);
      return false;
    } finally {
      this.observe(n);
    }
  }

  proposeConfChange(n: SimNode, cc: ConfChange): boolean {
    const raw = n.raw;
    if (!raw) return false;
    const what = `${confChangeTypeName[cc.type] ?? cc.type} ${cc.nodeId}`;
    try {
      raw.proposeConfChange(cc);
      this.stats.confChangesProposed++;
      this.ev(`propose conf change ${what} at ${n.id}`);
      return true;
    } catch (err) {
      if (!isRaftError(err, "ProposalDropped")) throw err;
      this.ev(`propose conf change ${what} at ${n.id}: dropped`);
      return false;
    } finally {
      this.observe(n);
    }
  }

  /**
   * A client asks `n` for a linearizable read (ReadIndex, thesis §6.4) with the unique context
   * `ctx`. Records the highest index known committed at this moment; the ReadState for `ctx`
   * must not be below it. Returns whether the node took the request (false: no leader known).
   */
  readIndex(n: SimNode, ctx: string): boolean {
    const raw = n.raw;
    if (!raw) return false;
    const committedBefore = this.committedAnywhere();
    try {
      raw.readIndex(textBytes(ctx));
      this.stats.reads++;
      this.reads.set(ctx, { node: n.id, step: this.step, committedBefore });
      this.ev(`read ${ctx} at ${n.id} (committed before: ${committedBefore})`);
      return true;
    } catch (err) {
      if (!isRaftError(err, "ProposalDropped")) throw err;
      this.stats.readsDropped++;
      this.ev(`read ${ctx} at ${n.id}: dropped`);
      return false;
    } finally {
      this.observe(n);
    }
  }

  /**
   * The highest index whose entry is known to have been committed by now: the highest commit
   * index any leader reached in the run (the checker watches them after every operation), the
   * commit index of any node that is up (it was told by a leader or restored from its durable
   * hard state or snapshot), and the length of the longest applied sequence. Each of them is an
   * entry whose commit completed already (its client may have been answered), never one that is
   * merely replicated or proposed.
   */
  committedAnywhere(): number {
    let hi = Math.max(this.checker.maxCommitted, this.checker.applied.length);
    for (const id of this.ids) {
      const raw = this.nodes.get(id)!.raw;
      if (raw) hi = Math.max(hi, raw.raft.raftLog.committed);
    }
    return hi;
  }

  /** A ReadState handed out by `n`: it must cover everything committed before its request. */
  private readStateArrived(n: SimNode, rs: ReadState): void {
    const ctx = bytesToText(rs.requestCtx);
    const req = this.reads.get(ctx);
    this.ev(`  ${n.id} read state ${ctx} at index ${rs.index}`);
    if (!req) throw new SafetyViolation("driver contract", `node ${n.id} answered a read ${JSON.stringify(ctx)} nobody asked for`);
    if (req.node !== n.id) {
      throw new SafetyViolation("driver contract", `node ${n.id} answered read ${ctx}, which was asked of node ${req.node}`);
    }
    if (!this.checkReads) return;
    this.stats.readStates++;
    if (n.raw!.raft.state !== "Leader") this.stats.readStatesForwarded++;
    if (rs.index < req.committedBefore) {
      throw new SafetyViolation(
        "stale read",
        `node ${n.id} answered read ${ctx} (asked at step ${req.step}) with read index ${rs.index}, ` +
          `but index ${req.committedBefore} was committed before the read was asked`,
      );
    }
    let list = this.serving.get(n.id);
    if (!list) {
      list = [];
      this.serving.set(n.id, list);
    }
    list.push({ ctx, incarnation: n.incarnation, index: rs.index, committedBefore: req.committedBefore });
    this.serveReads(n);
  }

  /**
   * Serve the reads whose index `n` has applied: its state must then hold every entry committed
   * before the request, as the run's one applied sequence has them (state-machine safety makes
   * the last one enough).
   */
  private serveReads(n: SimNode): void {
    const list = this.serving.get(n.id);
    if (!list || list.length === 0) return;
    const applied = n.sm.length;
    const g = this.checker.applied;
    const waiting: ServingRead[] = [];
    for (const s of list) {
      if (s.incarnation !== n.incarnation) continue;
      if (applied < s.index) {
        waiting.push(s);
        continue;
      }
      const k = s.committedBefore;
      if (applied < k || (k > 0 && n.sm[k - 1] !== g[k - 1])) {
        throw new SafetyViolation(
          "stale read",
          `node ${n.id} served read ${s.ctx} at applied index ${applied} without entry ${k}, committed before the read was asked`,
        );
      }
      this.stats.readsServed++;
      this.ev(`  ${n.id} served read ${s.ctx} (read index ${s.index}, applied ${applied})`);
    }
    if (waiting.length > 0) this.serving.set(n.id, waiting);
    else this.serving.delete(n.id);
  }

  transferLeader(n: SimNode, to: number): void {
    if (!n.raw) return;
    this.stats.transfers++;
    this.ev(`transfer leadership from ${n.id} to ${to}`);
    n.raw.transferLeader(to);
    this.observe(n);
  }

  /**
   * Take a snapshot of `n`'s applied state and compact its log up to it (or a few entries
   * below). Returns false when there was nothing to compact.
   */
  compact(n: SimNode): boolean {
    const first = n.storage.firstIndex();
    const before = n.storage.lazySnapshots;
    const snap = n.storage.snapshot(); // builds one at the applied index when it is newer
    if (n.storage.lazySnapshots > before) this.stats.snapshotsBuilt++;
    const hi = Math.min(snap.metadata.index, n.storage.lastIndex());
    if (hi < first) return false;
    const k = hi - this.rand.int(Math.min(4, hi - first + 1));
    n.storage.compact(k);
    this.stats.compactions++;
    this.ev(`compact ${n.id} through ${k} (snapshot at ${snap.metadata.index}, applied ${n.sm.length})`);
    return true;
  }

  /** The node that is leader of the highest term among the nodes that are up, if any. */
  currentLeader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.upNodes()) {
      const r = n.raw!.raft;
      if (r.state !== "Leader") continue;
      if (!best || r.term > best.raw!.raft.term) best = n;
    }
    return best;
  }
}

/** A one-line summary of a Ready for the trace. */
export function summarizeReady(rd: Ready): string {
  const parts: string[] = [];
  if (rd.softState) parts.push(`${rd.softState.raftState} lead ${rd.softState.leaderId}`);
  if (rd.hardState) parts.push(`hs ${rd.hardState.term}/${rd.hardState.vote}/${rd.hardState.commit}`);
  if (rd.snapshot) parts.push(`snapshot ${rd.snapshot.metadata.term}/${rd.snapshot.metadata.index}`);
  if (rd.entries.length > 0) parts.push(`append ${rd.entries[0]!.index}..${rd.entries[rd.entries.length - 1]!.index}`);
  if (rd.committedEntries.length > 0) {
    parts.push(`apply ${rd.committedEntries[0]!.index}..${rd.committedEntries[rd.committedEntries.length - 1]!.index}`);
  }
  if (rd.messages.length > 0) parts.push(`${rd.messages.length} msgs`);
  if (rd.persistedMessages.length > 0) parts.push(`${rd.persistedMessages.length} after-persist msgs`);
  return parts.length > 0 ? parts.join(", ") : "empty";
}
