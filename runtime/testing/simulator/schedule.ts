// One random schedule of the simulator, derived entirely from its seed: the cluster's shape
// and parameters, then a chaos phase of `steps` random actions (deliveries, ticks, Ready
// cycles, client proposals, ReadIndex reads, membership changes, partitions, crashes at any
// point of the driver, restarts, compactions, leader transfers), then a liveness phase: heal
// everything, restart every node, and require that within a bounded number of ticks a leader
// commits a new proposal on every live member. The SafetyChecker runs after every operation;
// every ReadState is checked against the highest index committed before its read was asked
// (Cluster.readIndex); at the end the logs and state machines of all nodes are also compared
// the slow, obvious way.
//
// The seed decides everything, including the cluster size (even seeds: 3 voters and one spare
// node; odd seeds: 5 voters and one spare), the Raft options (pre-vote and check-quorum on in
// most runs), the network's hostility and a fault profile (calm, standard, nemesis). Besides
// random crashes, faults are aimed, as a nemesis would, at delicate moments: a leader just
// elected or just committed, a node in the middle of persisting a new term or vote. So
// `SIM_SEED=<n>` replays any failure exactly. A failure throws SimulationError (seed, step,
// property, last events of the trace).
//
// This file must not use Math.random or Date and must not import a test framework.

import { ConfChangeType, type ConfChange, EMPTY_BYTES, RaftInvariantError, type Ready } from "../../raft/index.js";
import { SafetyViolation, entryContent } from "./checker.js";
import { CRASH_POINTS, Cluster, type ClusterStats, type CrashPoint, type NodeParams, type SimNode } from "./cluster.js";
import { NO_FAULTS, type NetworkFaults } from "./network.js";
import { SimRandom } from "./random.js";
import { SimulationError, Trace } from "./trace.js";

/** Everything a schedule runs with; drawn from the seed by configForSeed(). */
export interface SimulationConfig {
  seed: number;
  /** Initial voters: 3 or 5. */
  size: number;
  voters: number[];
  /** Every node id, voters first, then spares that may be added. */
  universe: number[];
  /** Membership changes never take the voters below this. */
  minVoters: number;
  params: NodeParams;
  faults: NetworkFaults;
  fifoRate: number;
  /** Length of the chaos phase, in actions. */
  steps: number;
  /** Weights of the chaos actions. */
  weights: Readonly<Record<ChaosAction, number>>;
  /** Ticks the liveness phase may take before it is a violation. */
  livenessTicks: number;
  /** How hard the schedule goes after leaders (see AIMED_FAULTS). */
  profile: FaultProfile;
  /** Probabilities of the faults aimed at delicate moments. */
  aimedFaults: AimedFaults;
}

/** Probabilities of faults aimed at delicate moments (see ScheduleRun.aimFaults / aimAtReady). */
export interface AimedFaults {
  /** Crash or isolate a node right after it became leader. */
  afterElection: number;
  /** Crash or isolate a leader right after its commit index moved. */
  afterCommit: number;
  /** Crash a node in the middle of a Ready that changes its term or vote. */
  atVote: number;
}

/**
 * calm: few crashes and partitions, leaders mostly live out their terms (long runs of
 * replication, compaction and snapshots to lagging nodes);
 * standard: now and then a leader dies at a delicate moment; nemesis: most leaders die or are
 * cut off right after their election or their first commits, and crashed nodes come back
 * fast, which produces the short, overlapping leaderships of the paper's Figure 8.
 */
export type FaultProfile = "calm" | "standard" | "nemesis";

export const AIMED_FAULTS: Readonly<Record<FaultProfile, AimedFaults>> = Object.freeze({
  calm: { afterElection: 0.02, afterCommit: 0.01, atVote: 0.01 },
  standard: { afterElection: 0.1, afterCommit: 0.05, atVote: 0.05 },
  nemesis: { afterElection: 0.5, afterCommit: 0.5, atVote: 0.2 },
});

export type ChaosAction =
  | "deliver"
  | "ready"
  | "tick"
  | "propose"
  | "confChange"
  | "partition"
  | "crash"
  | "restart"
  | "compact"
  | "transfer"
  | "read";

export const DEFAULT_WEIGHTS: Readonly<Record<ChaosAction, number>> = Object.freeze({
  deliver: 40,
  ready: 25,
  tick: 10,
  propose: 15,
  confChange: 2,
  partition: 1,
  crash: 1,
  restart: 2,
  compact: 2,
  transfer: 0.5,
  read: 4,
});

export const CALM_WEIGHTS: Readonly<Record<ChaosAction, number>> = Object.freeze({
  ...DEFAULT_WEIGHTS,
  crash: 0.3,
  partition: 0.3,
});

export const NEMESIS_WEIGHTS: Readonly<Record<ChaosAction, number>> = Object.freeze({
  ...DEFAULT_WEIGHTS,
  crash: 2,
  restart: 6,
});

export interface ScheduleOptions {
  /** Chaos steps (default 300). */
  steps?: number;
  /** Receives every trace line and the core's log (SIM_SEED replays). */
  verbose?: (line: string) => void;
  /** Events kept for the failure message (default 30). */
  traceSize?: number;
  /** Adjust the drawn configuration (tests use it to force a shape). */
  adjust?: (c: SimulationConfig) => void;
}

export interface ScheduleResult {
  seed: number;
  setup: string;
  steps: number;
  ticks: number;
  /** Highest term any node reached. */
  maxTerm: number;
  /** Terms that had a leader. */
  leaders: number;
  /** Length of the longest applied sequence (index of the last applied entry). */
  applied: number;
  /** Ticks the liveness phase needed. */
  livenessTicks: number;
  stats: ClusterStats;
  /** A hash of the applied sequence and the leader map: equal runs give equal fingerprints. */
  fingerprint: string;
}

/** The size of the cluster a seed runs: 3 voters for even seeds, 5 for odd ones. */
export function sizeForSeed(seed: number): number {
  return seed % 2 === 0 ? 3 : 5;
}

/** Draw a schedule's configuration from its random stream (the first draws of the seed). */
export function configForSeed(seed: number, rand: SimRandom, steps = 300): SimulationConfig {
  const size = sizeForSeed(seed);
  const voters = Array.from({ length: size }, (_, k) => k + 1);
  const universe = [...voters, size + 1];
  // Mostly the production setting (pre-vote and check-quorum on); sometimes each off.
  const mode = rand.int(10);
  const preVote = mode !== 0 && mode !== 2;
  const checkQuorum = mode !== 0 && mode !== 1;
  const electionTick = rand.pick([5, 6, 8, 10]);
  const heartbeatTick = rand.pick([1, 1, 2]);
  const params: NodeParams = {
    electionTick,
    heartbeatTick,
    preVote,
    checkQuorum,
    // One entry per MsgAppend in a third of the runs: acknowledgements then arrive entry by
    // entry, which is what a commit rule that counts old-term entries needs to go wrong.
    maxSizePerMsg: rand.chance(0.35) ? 1 : 1024 * 1024,
    maxInflightMsgs: rand.pick([1, 2, 4, 256]),
    // Sometimes a tight limit on uncommitted proposal bytes (commands are a few bytes each).
    maxUncommittedEntriesSize: rand.chance(0.2) ? rand.pick([8, 32]) : 0,
  };
  const profile = rand.weighted<FaultProfile>([
    ["calm", 3],
    ["standard", 4],
    ["nemesis", 3],
  ]);
  const faults: NetworkFaults = {
    dropRate: rand.pick([0, 0.02, 0.05, 0.1]),
    duplicateRate: rand.pick([0, 0.02, 0.05]),
    maxDelay: rand.pick([0, 1, 2, 3]),
    delayRate: 0.3,
  };
  return {
    seed,
    size,
    voters,
    universe,
    minVoters: 3,
    params,
    faults,
    fifoRate: rand.pick([0, 0.5, 0.9]),
    steps,
    weights: profile === "nemesis" ? NEMESIS_WEIGHTS : profile === "calm" ? CALM_WEIGHTS : DEFAULT_WEIGHTS,
    livenessTicks: 60 * electionTick,
    profile,
    aimedFaults: AIMED_FAULTS[profile],
  };
}

export function describeConfig(c: SimulationConfig): string {
  const p = c.params;
  const f = c.faults;
  const pct = (x: number) => `${Math.round(x * 100)}%`;
  return (
    `${c.size} voters + spare ${c.universe.slice(c.size).join(",")}, ` +
    `preVote ${p.preVote ? "on" : "off"}, checkQuorum ${p.checkQuorum ? "on" : "off"}, ` +
    `election ${p.electionTick} heartbeat ${p.heartbeatTick}, maxSizePerMsg ${p.maxSizePerMsg}, inflight ${p.maxInflightMsgs}, ` +
    (p.maxUncommittedEntriesSize > 0 ? `maxUncommitted ${p.maxUncommittedEntriesSize}, ` : "") +
    `drop ${pct(f.dropRate)} dup ${pct(f.duplicateRate)} delay<=${f.maxDelay}, fifo ${pct(c.fifoRate)}, ${c.profile}, ${c.steps} steps`
  );
}

/** Run the schedule of `seed`. Throws SimulationError on any violation. */
export function runSchedule(seed: number, options: ScheduleOptions = {}): ScheduleResult {
  const rand = new SimRandom(seed);
  const config = configForSeed(seed, rand, options.steps ?? 300);
  options.adjust?.(config);
  const trace = new Trace(options.traceSize ?? 30, options.verbose);
  const setup = describeConfig(config);
  trace.note(`seed ${seed}: ${setup}`);
  const cluster = new Cluster(
    { voters: config.voters, universe: config.universe, params: config.params, faults: config.faults, fifoRate: config.fifoRate },
    rand,
    trace,
  );
  const run = new ScheduleRun(config, cluster, rand);
  try {
    run.chaos();
    const livenessTicks = run.liveness();
    run.finalChecks();
    const c = cluster.checker;
    let maxTerm = 0;
    for (const n of cluster.nodes.values()) maxTerm = Math.max(maxTerm, n.raw?.raft.term ?? 0);
    return {
      seed,
      setup,
      steps: cluster.step,
      ticks: cluster.now,
      maxTerm,
      leaders: c.leaderOfTerm.size,
      applied: c.applied.length,
      livenessTicks,
      stats: cluster.stats,
      fingerprint: fingerprint(c.applied, c.leaderOfTerm, cluster.now),
    };
  } catch (err) {
    if (err instanceof SimulationError) throw err;
    if (err instanceof SafetyViolation) {
      throw new SimulationError(seed, cluster.step, err.property, err.message, trace.lines(), setup, { cause: err });
    }
    const e = err instanceof Error ? err : new Error(String(err));
    const where = (e.stack ?? "").split("\n").slice(1, 6).join("\n");
    const kind = e instanceof RaftInvariantError ? "RaftInvariantError" : e.name;
    throw new SimulationError(seed, cluster.step, "core error", `${kind}: ${e.message}\n${where}`, trace.lines(), setup, { cause: e });
  }
}

class ScheduleRun {
  private commands = 0;
  private readsAsked = 0;

  constructor(
    private readonly config: SimulationConfig,
    private readonly cluster: Cluster,
    private readonly rand: SimRandom,
  ) {
    for (const n of cluster.nodes.values()) cluster.start(n);
  }

  private violation(property: "liveness", detail: string): SafetyViolation {
    return new SafetyViolation(property, detail);
  }

  // -------------------------------------------------------------------------------------
  // Chaos

  chaos(): void {
    const c = this.cluster;
    const weights = Object.entries(this.config.weights) as [ChaosAction, number][];
    for (let s = 0; s < this.config.steps; s++) {
      c.step++;
      this.act(this.rand.weighted(weights));
      c.flushReports();
      this.aimFaults();
    }
  }

  /**
   * Faults aimed at leaders at their most delicate moments, as a nemesis would: just after
   * winning an election (before the new term's first entry is replicated) and just after the
   * commit index moved (before the next appends go out). A random crash rarely lands there,
   * yet that is where the commit rules matter (the paper's Figure 8 needs three leaders in a
   * row to fail in such windows).
   */
  private aimFaults(): void {
    const c = this.cluster;
    const r = this.rand;
    const p = this.config.aimedFaults;
    for (const m of c.takeMoments()) {
      const n = c.node(m.id);
      if (!n.up) continue;
      if (!r.chance(m.kind === "elected" ? p.afterElection : p.afterCommit)) continue;
      if (r.chance(0.4)) {
        c.crash(n, "idle");
      } else {
        c.net.isolate(n.id);
        c.stats.partitions++;
        c.ev(`partition (isolate leader ${n.id} after ${m.kind}): ${c.net.describePartition(c.ids)}`);
      }
    }
  }

  private act(action: ChaosAction): void {
    const c = this.cluster;
    const r = this.rand;
    switch (action) {
      case "deliver":
        // When nothing is due, do the next useful thing rather than let time pass.
        if (!c.deliverOne() && !this.readyOne()) c.tickAll(0.05);
        return;
      case "ready":
        if (!this.readyOne() && !c.deliverOne()) c.tickAll(0.05);
        return;
      case "tick":
        c.tickAll(0.05);
        return;
      case "propose": {
        // Clients talk to members (a spare never knows a leader), now and then to anyone.
        const up = c.upNodes();
        const members = up.filter((n) => c.isMember(n.id));
        const to = members.length > 0 && r.chance(0.9) ? members : up;
        if (to.length > 0) c.propose(r.pick(to), `c${++this.commands}`);
        return;
      }
      case "read": {
        // A linearizable read (ReadIndex) at a live node, leader or follower, mostly members.
        // Clients often go to a node that believes it leads, which may be a deposed leader cut
        // off from its successor: the read that a broken ReadIndex would answer stale.
        const up = c.upNodes();
        const leaders = up.filter((n) => n.raw!.raft.state === "Leader");
        const members = up.filter((n) => c.isMember(n.id));
        const to = leaders.length > 0 && r.chance(0.4) ? leaders : members.length > 0 && r.chance(0.9) ? members : up;
        if (to.length > 0) c.readIndex(r.pick(to), `r${++this.readsAsked}`);
        return;
      }
      case "confChange":
        this.confChange();
        return;
      case "partition":
        this.partition();
        return;
      case "crash":
        this.crash();
        return;
      case "restart": {
        const down = c.ids.map((id) => c.node(id)).filter((n) => !n.up);
        if (down.length > 0) c.restart(r.pick(down));
        return;
      }
      case "compact": {
        const up = c.upNodes();
        if (up.length > 0) c.compact(r.pick(up));
        return;
      }
      case "transfer": {
        const leader = c.currentLeader();
        if (!leader) return;
        const others = leader.raw!.raft.trk.voterIds().filter((id) => id !== leader.id);
        if (others.length > 0) c.transferLeader(leader, r.pick(others));
        return;
      }
    }
  }

  /** Run a Ready cycle on a random node that has one. Returns false when none has. */
  private readyOne(): boolean {
    const c = this.cluster;
    const ready = c.upNodes().filter((n) => n.raw!.hasReady());
    if (ready.length === 0) return false;
    const n = this.rand.pick(ready);
    const crashed = c.processReady(n, (rd) => this.aimAtReady(rd)) && !n.up;
    // A crashed process is often restarted at once by its supervisor, while the messages it
    // sent (and the ones sent to it) are still in flight.
    if (crashed && this.rand.chance(0.5)) c.restart(n);
    return true;
  }

  /**
   * A fault aimed at a Ready that changes the term or the vote: the moment when a node has
   * promised something (its vote) that must be durable before anyone hears of it. Crash right
   * after its early messages went out, or right after the batch became durable.
   */
  private aimAtReady(rd: Ready): Exclude<CrashPoint, "idle"> | undefined {
    const hs = rd.hardState;
    if (!hs || !rd.mustSync || !this.rand.chance(this.config.aimedFaults.atVote)) return undefined;
    return this.rand.chance(0.5) ? "after-send" : "after-persist";
  }

  /**
   * A single-step membership change proposed at the leader, chosen from its configuration:
   * add a spare as learner, promote a learner, add a spare as voter, remove a learner, or
   * remove a voter while more than minVoters remain (the leader itself included).
   */
  private confChange(): void {
    const c = this.cluster;
    const leader = c.currentLeader();
    if (!leader) return;
    const trk = leader.raw!.raft.trk;
    const voters = trk.voterIds();
    const learners = trk.learnerIds();
    const outside = c.ids.filter((id) => !voters.includes(id) && !learners.includes(id));
    const options: ConfChange[] = [];
    const cc = (type: ConfChange["type"], nodeId: number): ConfChange => ({ type, nodeId, context: EMPTY_BYTES });
    for (const id of outside) options.push(cc(ConfChangeType.AddLearnerNode, id), cc(ConfChangeType.AddLearnerNode, id));
    for (const id of outside) options.push(cc(ConfChangeType.AddNode, id));
    for (const id of learners) options.push(cc(ConfChangeType.AddNode, id), cc(ConfChangeType.AddNode, id));
    for (const id of learners) options.push(cc(ConfChangeType.RemoveNode, id));
    if (voters.length > this.config.minVoters) for (const id of voters) options.push(cc(ConfChangeType.RemoveNode, id));
    if (options.length === 0) return;
    c.proposeConfChange(leader, this.rand.pick(options));
  }

  private partition(): void {
    const c = this.cluster;
    const r = this.rand;
    // Partitions come and go: a partitioned network heals more often than it splits again.
    const partitioned = c.net.describePartition(c.ids) !== "healed";
    const kind = r.weighted([
      ["split", partitioned ? 1 : 5],
      ["isolate", partitioned ? 1 : 5],
      ["heal", partitioned ? 6 : 0],
    ] as const);
    c.stats.partitions++;
    if (kind === "split") {
      c.net.splitRandomly(c.ids);
    } else if (kind === "isolate") {
      const leader = c.currentLeader();
      c.net.isolate(leader && r.chance(0.5) ? leader.id : r.pick(c.ids));
    } else {
      c.net.heal();
    }
    c.ev(`partition (${kind}): ${c.net.describePartition(c.ids)}`);
  }

  /**
   * Crash a node (often the leader), in the middle of a Ready cycle more often than not:
   * right after ready(), after its early messages went out, after its batch became durable,
   * or half-way through applying.
   */
  private crash(): void {
    const c = this.cluster;
    const r = this.rand;
    const up = c.upNodes();
    if (up.length === 0) return;
    const leader = c.currentLeader();
    if (r.chance(0.65)) {
      const ready = up.filter((n) => n.raw!.hasReady());
      if (ready.length > 0) {
        const n = leader && ready.includes(leader) && r.chance(0.5) ? leader : r.pick(ready);
        c.processReady(n, r.pick(CRASH_POINTS.slice(1)) as Exclude<CrashPoint, "idle">);
        return;
      }
    }
    c.crash(leader && r.chance(0.4) ? leader : r.pick(up), "idle");
  }

  // -------------------------------------------------------------------------------------
  // Liveness

  /**
   * Deliver and process everything until the cluster is quiet. Catching a follower up may
   * legitimately take one round trip per entry (one entry per message, one message in
   * flight), so the bound grows with the longest log; a message loop still exceeds it.
   */
  private stabilize(): void {
    const c = this.cluster;
    let longest = 0;
    for (const n of c.upNodes()) longest = Math.max(longest, n.raw!.raft.raftLog.lastIndex());
    const maxRounds = 500 + 4 * longest;
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const n of this.rand.shuffled(c.upNodes())) {
        c.step++;
        if (c.processReady(n)) busy = true;
      }
      for (;;) {
        c.step++;
        if (!c.deliverOne(0)) break;
        busy = true;
      }
      c.flushReports();
      if (!busy) return;
    }
    throw this.violation("liveness", `the cluster did not quiesce within ${maxRounds} rounds without ticks (a message loop?)`);
  }

  /** The probe (if any) applied by every member of the latest configuration. */
  private probeDone(): boolean {
    const c = this.cluster;
    const members = [...c.latestConf.voters, ...c.latestConf.learners];
    for (const by of c.probeAppliedBy.values()) {
      if (members.every((id) => by.has(id))) return true;
    }
    return false;
  }

  /** Heal, restart everyone, and require a committed proposal on every member in time. */
  liveness(): number {
    const c = this.cluster;
    c.net.heal();
    c.net.faults = NO_FAULTS;
    c.dropFromNonMembers = true;
    c.net.expediteAll(c.now);
    for (const id of c.ids) if (!c.node(id).up) c.restart(c.node(id));
    c.ev(`liveness phase: healed, members voters [${c.latestConf.voters.join(",")}] learners [${c.latestConf.learners.join(",")}]`);
    const start = c.now;
    const resendAfter = 3 * this.config.params.electionTick;
    let probes = 0;
    let lastProbeAt = -Infinity;
    while (c.now - start <= this.config.livenessTicks) {
      this.stabilize();
      if (this.probeDone()) return c.now - start;
      const leader = c.currentLeader();
      if (leader && c.now - lastProbeAt >= resendAfter) {
        if (c.propose(leader, `probe-${++probes}`)) lastProbeAt = c.now;
        this.stabilize();
        if (this.probeDone()) return c.now - start;
      }
      c.step++;
      c.tickAll(0);
      c.takeMoments(); // no aimed faults while checking liveness
    }
    const states = c
      .upNodes()
      .map((n) => {
        const r = n.raw!.raft;
        return `${n.id}: ${r.state} term ${r.term} lead ${r.lead} commit ${r.raftLog.committed} applied ${n.sm.length} last ${r.raftLog.lastIndex()}`;
      })
      .join("; ");
    throw this.violation(
      "liveness",
      `no proposal committed on every member [${[...c.latestConf.voters, ...c.latestConf.learners].join(",")}] within ${this.config.livenessTicks} ticks after healing (${probes} probes); ${states}`,
    );
  }

  // -------------------------------------------------------------------------------------
  // Final, brute-force checks (a cross-check of the incremental checker)

  finalChecks(): void {
    const c = this.cluster;
    const g = c.checker.applied;
    const up = c.upNodes();
    for (const n of c.nodes.values()) {
      for (let k = 0; k < n.sm.length; k++) {
        if (n.sm[k] !== g[k]) {
          throw new SafetyViolation("state machine safety", `final check: node ${n.id} applied ${JSON.stringify(n.sm[k])} at ${k + 1}, the run's sequence has ${JSON.stringify(g[k])}`);
        }
      }
    }
    for (let a = 0; a < up.length; a++) {
      for (let b = a + 1; b < up.length; b++) this.compareLogs(up[a]!, up[b]!);
    }
  }

  /** Log matching between two nodes: below the highest shared (index, term), all equal. */
  private compareLogs(x: SimNode, y: SimNode): void {
    const lx = x.raw!.raft.raftLog;
    const ly = y.raw!.raft.raftLog;
    const lo = Math.max(lx.firstIndex(), ly.firstIndex());
    const hi = Math.min(lx.lastIndex(), ly.lastIndex());
    if (lo > hi) return;
    const ex = lx.slice(lo, hi + 1);
    const ey = ly.slice(lo, hi + 1);
    let shared = -1;
    for (let k = ex.length - 1; k >= 0; k--) {
      if (ex[k]!.term === ey[k]!.term) {
        shared = k;
        break;
      }
    }
    for (let k = 0; k <= shared; k++) {
      if (ex[k]!.term !== ey[k]!.term || entryContent(ex[k]!) !== entryContent(ey[k]!)) {
        throw new SafetyViolation(
          "log matching",
          `final check: nodes ${x.id} and ${y.id} share entry ${ex[shared]!.term}/${ex[shared]!.index} but differ at index ${ex[k]!.index} (${ex[k]!.term} vs ${ey[k]!.term})`,
        );
      }
    }
  }
}

/** FNV-1a over the applied items, the leader map and the final tick. */
function fingerprint(applied: readonly string[], leaders: ReadonlyMap<number, number>, now: number): string {
  let h = 0x811c9dc5;
  const mix = (s: string) => {
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
  };
  for (const item of applied) mix(item + "\n");
  for (const [t, id] of [...leaders].sort((a, b) => a[0] - b[0])) mix(`${t}:${id};`);
  mix(`@${now}`);
  return h.toString(16).padStart(8, "0");
}
