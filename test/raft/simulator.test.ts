// The seeded cluster simulator (runtime/testing/simulator) run against the Raft core.
//
// Each schedule is derived from one seed: a 3-voter (even seeds) or 5-voter (odd seeds)
// cluster with a spare node, random partitions, drops, duplicates, delays and reordering,
// crashes at every point of the driver's Ready cycle, restarts, membership changes,
// compaction and snapshots, leader transfers, and faults aimed at fresh leaders. The safety
// properties of Raft (paper §5.2-§5.4, Figure 3: election safety, log matching, leader
// completeness, state-machine safety) are checked after every operation, and liveness after
// healing; ReadIndex reads (thesis §6.4) are asked at random nodes and every answer must cover
// every index committed before the read was asked. The test also proves the checkers can fail:
// they are fed violations directly, and the simulator is run over a core with a rule
// deliberately broken (the §5.4.1 up-to-date vote check; the §5.4.2 "commit only current-term
// entries by counting" rule, the paper's Figure 8; ReadIndex without its heartbeat round or
// without waiting for the leader's first commit of its term).
//
// Environment: SIM_SEED=<n> replays exactly one seed with a verbose trace (and skips the
// rest); SIM_SCHEDULES=<n> changes the number of random schedules (default 4,000).

import { afterAll, describe, expect, it } from "vitest";
import { RaftLog } from "../../runtime/raft/log.js";
import { Raft } from "../../runtime/raft/raft.js";
import { ReadOnly } from "../../runtime/raft/read-only.js";
import { type Entry, EntryType, EMPTY_BYTES, MessageType } from "../../runtime/raft/index.js";
import {
  AIMED_FAULTS,
  CRASH_POINTS,
  Cluster,
  type ClusterStats,
  emptyClusterStats,
  type LogView,
  NEMESIS_WEIGHTS,
  NO_FAULTS,
  SafetyChecker,
  SafetyViolation,
  SimRandom,
  SimulationError,
  type SimulationConfig,
  Trace,
  configForSeed,
  runSchedule,
  textBytes,
} from "../../runtime/testing/simulator/index.js";

const REPLAY_SEED = process.env.SIM_SEED === undefined ? undefined : Number(process.env.SIM_SEED);
const SCHEDULES = Number(process.env.SIM_SCHEDULES ?? 4000);
/**
 * Chaos steps per schedule. Deep scenarios need long schedules: the Figure 8 bug below is
 * found about eight times as often with 1,000 steps as with 500.
 */
const STEPS = 1000;
/** Random schedules per `it` block (four blocks: two of 3 voters, two of 5 voters). */
const PER_BLOCK = Math.max(1, Math.ceil(SCHEDULES / 4));

let schedulesRun = 0;
afterAll(() => {
  if (schedulesRun > 0) console.log(`simulator: ${schedulesRun} random schedules run in this file`);
});

interface BatchSummary {
  schedules: number;
  ms: number;
  leaders: number;
  applied: number;
  maxLivenessTicks: number;
  preVoteOff: number;
  checkQuorumOff: number;
  stats: ClusterStats;
}

/** Run the schedules of `seeds`; the first failure throws its SimulationError as is. */
function runBatch(seeds: readonly number[]): BatchSummary {
  const t0 = performance.now();
  const sum: BatchSummary = {
    schedules: 0,
    ms: 0,
    leaders: 0,
    applied: 0,
    maxLivenessTicks: 0,
    preVoteOff: 0,
    checkQuorumOff: 0,
    stats: emptyClusterStats(),
  };
  for (const seed of seeds) {
    let cfg: SimulationConfig | undefined;
    const r = runSchedule(seed, { steps: STEPS, adjust: (c) => (cfg = c) });
    schedulesRun++;
    sum.schedules++;
    sum.leaders += r.leaders;
    sum.applied += r.applied;
    sum.maxLivenessTicks = Math.max(sum.maxLivenessTicks, r.livenessTicks);
    if (!cfg!.params.preVote) sum.preVoteOff++;
    if (!cfg!.params.checkQuorum) sum.checkQuorumOff++;
    for (const [k, v] of Object.entries(r.stats) as [keyof ClusterStats, ClusterStats[keyof ClusterStats]][]) {
      if (typeof v === "number") (sum.stats[k] as number) += v;
    }
    for (const p of CRASH_POINTS) sum.stats.crashes[p] += r.stats.crashes[p];
  }
  sum.ms = performance.now() - t0;
  return sum;
}

function seedsOf(parity: 0 | 1, from: number, count: number): number[] {
  // Even seeds run 3 voters, odd seeds 5 voters (sizeForSeed).
  return Array.from({ length: count }, (_, k) => 2 * (from + k) + parity);
}

function report(label: string, s: BatchSummary): void {
  const c = s.stats.crashes;
  console.log(
    `simulator ${label}: ${s.schedules} schedules in ${(s.ms / 1000).toFixed(1)} s; ` +
      `${s.leaders} leaderships, ${s.applied} entries applied, ${s.stats.snapshotsInstalled} snapshots installed, ` +
      `${s.stats.confChangesApplied} conf changes applied, crashes ${CRASH_POINTS.map((p) => `${p}:${c[p]}`).join(" ")}, ` +
      `${s.stats.partitions} partitions, reads ${s.stats.reads} asked (${s.stats.readsDropped} dropped), ` +
      `${s.stats.readStates} read states checked (${s.stats.readStatesForwarded} at followers), ${s.stats.readsServed} reads served, max liveness ${s.maxLivenessTicks} ticks, ` +
      `preVote off in ${s.preVoteOff}, checkQuorum off in ${s.checkQuorumOff}`,
  );
}

/** A batch must have exercised what the simulator claims to exercise. */
function expectCoverage(s: BatchSummary): void {
  if (s.schedules < 200) return; // small SIM_SCHEDULES runs: no coverage claims
  expect(s.leaders).toBeGreaterThan(s.schedules * 2);
  expect(s.applied).toBeGreaterThan(s.schedules * 5);
  expect(s.stats.snapshotsInstalled).toBeGreaterThan(s.schedules / 10);
  expect(s.stats.confChangesApplied).toBeGreaterThan(s.schedules / 10);
  for (const p of CRASH_POINTS) expect(s.stats.crashes[p]).toBeGreaterThan(s.schedules / 10);
  expect(s.stats.partitions).toBeGreaterThan(s.schedules);
  // ReadIndex: reads are answered (and checked) at leaders and followers, and served.
  expect(s.stats.readStates).toBeGreaterThan(s.schedules);
  expect(s.stats.readStatesForwarded).toBeGreaterThan(s.schedules / 10);
  expect(s.stats.readsServed).toBeGreaterThan(s.schedules);
  expect(s.preVoteOff).toBeGreaterThan(0);
  expect(s.checkQuorumOff).toBeGreaterThan(0);
  expect(s.preVoteOff).toBeLessThan(s.schedules / 2);
}

describe.skipIf(REPLAY_SEED !== undefined)("simulator: random schedules", () => {
  it(`3 voters + 1 spare: ${PER_BLOCK} schedules (first half)`, () => {
    const s = runBatch(seedsOf(0, 1, PER_BLOCK));
    report("3 voters (1)", s);
    expectCoverage(s);
  }, 300_000);

  it(`3 voters + 1 spare: ${PER_BLOCK} schedules (second half)`, () => {
    const s = runBatch(seedsOf(0, 1 + PER_BLOCK, PER_BLOCK));
    report("3 voters (2)", s);
    expectCoverage(s);
  }, 300_000);

  it(`5 voters + 1 spare: ${PER_BLOCK} schedules (first half)`, () => {
    const s = runBatch(seedsOf(1, 0, PER_BLOCK));
    report("5 voters (1)", s);
    expectCoverage(s);
  }, 300_000);

  it(`5 voters + 1 spare: ${PER_BLOCK} schedules (second half)`, () => {
    const s = runBatch(seedsOf(1, PER_BLOCK, PER_BLOCK));
    report("5 voters (2)", s);
    expectCoverage(s);
  }, 300_000);
});

describe.runIf(REPLAY_SEED !== undefined)("simulator: replay", () => {
  it(`replays SIM_SEED=${REPLAY_SEED} with a verbose trace`, () => {
    const r = runSchedule(REPLAY_SEED!, { steps: STEPS, verbose: (line) => console.log(line) });
    schedulesRun++;
    console.log(JSON.stringify(r, null, 2));
  }, 300_000);
});

describe.skipIf(REPLAY_SEED !== undefined)("simulator: the schedule is a function of the seed", () => {
  it("runs the same seed twice to the same trace and result, and different seeds differently", () => {
    const traceA: string[] = [];
    const traceB: string[] = [];
    const a = runSchedule(1234, { steps: 300, verbose: (line) => traceA.push(line) });
    const b = runSchedule(1234, { steps: 300, verbose: (line) => traceB.push(line) });
    expect(traceA.length).toBeGreaterThan(300);
    expect(traceB).toEqual(traceA);
    expect(b).toEqual(a);
    const fingerprints = new Set<string>();
    for (let seed = 1; seed <= 20; seed++) fingerprints.add(runSchedule(seed, { steps: 300 }).fingerprint);
    expect(fingerprints.size).toBe(20);
  });

  it("draws the cluster shape from the seed: 3 voters on even seeds, 5 on odd; pre-vote/check-quorum mostly on", () => {
    const counts = { three: 0, five: 0, preVote: 0, checkQuorum: 0, both: 0, neither: 0 };
    for (let seed = 1; seed <= 1000; seed++) {
      const c = configForSeed(seed, new SimRandom(seed));
      expect(c.size).toBe(seed % 2 === 0 ? 3 : 5);
      expect(c.universe).toEqual([...c.voters, c.size + 1]);
      if (c.size === 3) counts.three++;
      else counts.five++;
      if (c.params.preVote) counts.preVote++;
      if (c.params.checkQuorum) counts.checkQuorum++;
      if (c.params.preVote && c.params.checkQuorum) counts.both++;
      if (!c.params.preVote && !c.params.checkQuorum) counts.neither++;
    }
    expect(counts.three).toBe(500);
    expect(counts.five).toBe(500);
    // 70% both on, 10% each alone, 10% neither (configForSeed's `mode`), give or take.
    expect(counts.both).toBeGreaterThan(600);
    expect(counts.neither).toBeGreaterThan(50);
    expect(counts.preVote - counts.both).toBeGreaterThan(50);
    expect(counts.checkQuorum - counts.both).toBeGreaterThan(50);
  });

  it("formats a failure with the seed, the step, the property, how to replay and the trace", () => {
    const e = new SimulationError(7, 42, "election safety", "term 3 has two leaders: 1 and 2", ["[step 41 tick 9] a", "[step 42 tick 9] b"], "3 voters");
    expect(e.message).toBe(
      "simulator: election safety violated at step 42 of seed 7 (3 voters)\n" +
        "term 3 has two leaders: 1 and 2\n" +
        "replay: SIM_SEED=7 npx vitest run test/raft/simulator.test.ts\n" +
        "last 2 events:\n  [step 41 tick 9] a\n  [step 42 tick 9] b",
    );
  });
});

// ---------------------------------------------------------------------------------------
// The checkers can fail: each is fed a violation directly.

/** A LogView over a plain list of entries (index of entries[0] = first), for the checker. */
function fakeLog(entries: Entry[], committed: number, snapshot = { index: 0, term: 0 }): LogView {
  const first = snapshot.index + 1;
  return {
    unstable: { entries, offset: first },
    committed,
    firstIndex: () => first,
    lastIndex: () => first + entries.length - 1,
    termOrUndefined: (i) => (i === snapshot.index ? snapshot.term : entries[i - first]?.term),
  };
}

function ent(index: number, term: number, data = ""): Entry {
  return { type: EntryType.EntryNormal, index, term, data: textBytes(data), context: EMPTY_BYTES };
}

describe.skipIf(REPLAY_SEED !== undefined)("simulator: the safety checker fires on each violation", () => {
  it("election safety: a second leader in the same term (§5.2)", () => {
    const c = new SafetyChecker();
    c.observe(1, 2, true, fakeLog([ent(1, 1), ent(2, 2)], 1));
    c.observe(1, 2, true, fakeLog([ent(1, 1), ent(2, 2)], 2)); // the same leader again is fine
    c.observe(2, 3, true, fakeLog([ent(1, 1), ent(2, 2), ent(3, 3)], 2));
    expect(() => c.observe(3, 2, true, fakeLog([ent(1, 1), ent(2, 2)], 1))).toThrow(
      expect.objectContaining({ property: "election safety", message: "term 2 has two leaders: 1 and 3" }),
    );
  });

  it("log matching: the same (index, term) with another content, or after another entry (§5.3)", () => {
    const c = new SafetyChecker();
    c.observe(1, 2, false, fakeLog([ent(1, 1, "a"), ent(2, 2, "b")], 0));
    c.observe(2, 2, false, fakeLog([ent(1, 1, "a"), ent(2, 2, "b"), ent(3, 2, "c")], 0));
    expect(() => c.observe(3, 2, false, fakeLog([ent(1, 1, "a"), ent(2, 2, "x")], 0))).toThrow(
      expect.objectContaining({ property: "log matching" }),
    );
    const d = new SafetyChecker();
    d.observe(1, 3, false, fakeLog([ent(1, 1), ent(2, 1), ent(3, 3, "z")], 0));
    // Same entry 3/3 but preceded by an entry of term 2 instead of term 1: the logs differ below it.
    expect(() => d.observe(2, 3, false, fakeLog([ent(1, 1), ent(2, 2), ent(3, 3, "z")], 0))).toThrow(
      expect.objectContaining({ property: "log matching", message: expect.stringContaining("differ before it") }),
    );
  });

  it("leader completeness: a new leader lacking an entry committed in an earlier term (§5.4)", () => {
    const c = new SafetyChecker();
    c.observe(1, 2, true, fakeLog([ent(1, 1), ent(2, 2, "x"), ent(3, 2, "y")], 3)); // leader 1 of term 2 commits 1..3
    // A leader of term 4 holding all three entries is fine; one whose index 3 has term 3 is not.
    c.observe(2, 4, true, fakeLog([ent(1, 1), ent(2, 2, "x"), ent(3, 2, "y"), ent(4, 4)], 2));
    expect(() => c.observe(3, 5, true, fakeLog([ent(1, 1), ent(2, 2, "x"), ent(3, 3, "w")], 2))).toThrow(
      expect.objectContaining({
        property: "leader completeness",
        message: expect.stringContaining("node 3 became leader of term 5 without entry 2/3, committed in term 2"),
      }),
    );
    // Entries below a leader's snapshot are not asked for (its state machine covers them).
    const d = new SafetyChecker();
    d.observe(1, 2, true, fakeLog([ent(1, 1), ent(2, 2), ent(3, 2)], 3));
    d.observe(2, 3, true, fakeLog([ent(4, 3)], 3, { index: 3, term: 2 }));
  });

  it("state machine safety: two nodes applying different entries at one index (§5.4.3)", () => {
    const c = new SafetyChecker();
    c.observeApply(1, 1, 1, "1|a");
    c.observeApply(1, 2, 1, "1|b");
    c.observeApply(2, 1, 1, "1|a");
    expect(() => c.observeApply(2, 2, 2, "2|c")).toThrow(expect.objectContaining({ property: "state machine safety" }));
    expect(() => c.observeInstall(3, ["1|a", "1|x"])).toThrow(expect.objectContaining({ property: "state machine safety" }));
    c.observeInstall(3, ["1|a", "1|b", "1|c"]); // a longer, consistent state is fine and extends it
    expect(c.applied).toEqual(["1|a", "1|b", "1|c"]);
  });
});

// ---------------------------------------------------------------------------------------
// Injected bugs: the simulator must catch a deliberately broken core.

/** Run seeds in order until one fails; returns the failure and how many seeds ran. */
function firstFailure(
  seeds: Iterable<number>,
  adjust?: (c: SimulationConfig) => void,
): { error: SimulationError | undefined; tried: number } {
  let tried = 0;
  for (const seed of seeds) {
    tried++;
    try {
      runSchedule(seed, { steps: STEPS, adjust });
    } catch (e) {
      if (e instanceof SimulationError) return { error: e, tried };
      throw e;
    }
  }
  return { error: undefined, tried };
}

function* range(from: number, count: number, step = 1): Generator<number> {
  for (let k = 0; k < count; k++) yield from + k * step;
}

const SAFETY: readonly string[] = ["election safety", "log matching", "leader completeness", "state machine safety"];

describe.skipIf(REPLAY_SEED !== undefined)("simulator: injected bugs are caught", () => {
  it("a vote granted without the up-to-date check (§5.4.1) breaks leader completeness within 50 seeds", () => {
    const original = RaftLog.prototype.isUpToDate;
    RaftLog.prototype.isUpToDate = function () {
      return true;
    };
    try {
      const { error, tried } = firstFailure(range(1, 50));
      console.log(`injected isUpToDate bug: caught after ${tried} seeds: ${error?.message.split("\n")[0]}`);
      expect(error).toBeDefined();
      // A stale candidate wins and is caught the moment it becomes leader.
      expect(error!.property).toBe("leader completeness");
      expect(error!.message).toContain(`SIM_SEED=${error!.seed}`);
      expect(error!.trace.length).toBe(30);
    } finally {
      RaftLog.prototype.isUpToDate = original;
    }
  }, 120_000);

  it("a vote sent before it is durable (the Ready contract) breaks election safety after a crash", () => {
    // Reference: Raft paper §5.2 and Figure 2 ("updated on stable storage before responding to
    // RPCs"). The broken core puts vote responses among the messages that go out before the
    // Ready is persisted; a voter that crashes after sending but before persisting forgets its
    // vote and may vote again in the same term. This shows the driver's crash points model
    // durability: a correct core never loses a vote this way.
    const original = Raft.prototype.send;
    Raft.prototype.send = function (this: Raft, fields) {
      const before = this.msgsAfterAppend.length;
      original.call(this, fields);
      const last = this.msgsAfterAppend[this.msgsAfterAppend.length - 1];
      if (this.msgsAfterAppend.length > before && last && last.to !== this.id && last.type === MessageType.MsgRequestVoteResponse) {
        this.msgsAfterAppend.pop();
        this.msgs.push(last);
      }
    };
    try {
      const { error, tried } = firstFailure(range(1, 300));
      console.log(`injected early-vote bug: caught after ${tried} seeds: ${error?.message.split("\n")[0]}`);
      expect(error).toBeDefined();
      expect(SAFETY).toContain(error!.property);
      expect(error!.message).toMatch(/term \d+ has two leaders|changes its vote/);
    } finally {
      Raft.prototype.send = original;
    }
  }, 120_000);

  /** maybeCommit without the §5.4.2 term check: commits old-term entries by counting replicas. */
  function commitByCounting(this: RaftLog, maxIndex: number, _term: number): boolean {
    if (maxIndex > this.committed) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  it("committing a previous-term entry by counting (§5.4.2, Figure 8) is caught in a scripted Figure 8", () => {
    // Reference: Raft paper §5.4.2 and Figure 8. Three nodes, one entry per MsgAppend.
    //   1. Node 1 leads term 2; entry e (index 3, term 2) reaches nobody; node 1 crashes.
    //   2. Node 2 wins term 3 with node 3's vote; its empty entry (3, term 3) reaches nobody; it crashes.
    //   3. Node 1 restarts, wins term 4 with node 3's vote and replicates e to node 3: e is on a
    //      majority. The broken rule commits it now; the correct rule waits for the entry of term 4.
    //      Node 1 crashes before it sends that entry.
    //   4. Node 2 restarts and wins term 5 with node 3's vote (its last term, 3, beats e's 2), so a
    //      committed entry is missing from a later leader's log (and would be overwritten).
    const scripted = (broken: boolean): { violation?: SafetyViolation; node1Commit: number; leader?: number } => {
      const original = RaftLog.prototype.maybeCommit;
      if (broken) RaftLog.prototype.maybeCommit = commitByCounting;
      try {
        const c = new Cluster(
          {
            voters: [1, 2, 3],
            universe: [1, 2, 3],
            params: {
              electionTick: 10,
              heartbeatTick: 1,
              preVote: false,
              checkQuorum: false,
              maxSizePerMsg: 1,
              maxInflightMsgs: 256,
              maxUncommittedEntriesSize: 0,
            },
            faults: NO_FAULTS,
            fifoRate: 1,
          },
          new SimRandom(1),
          new Trace(30),
        );
        for (const n of c.nodes.values()) c.start(n);
        const [n1, n2] = [c.node(1), c.node(2)];
        /** Ready cycles and FIFO deliveries until quiet or `until` holds. */
        const drive = (until: () => boolean = () => false) => {
          for (let k = 0; k < 1000; k++) {
            let busy = false;
            for (const n of c.upNodes()) {
              if (c.processReady(n)) busy = true;
              if (until()) return;
            }
            while (c.deliverOne(1)) {
              busy = true;
              c.flushReports();
              if (until()) return;
            }
            if (!busy) return;
          }
        };
        const campaignUntilLeader = (id: number, until: () => boolean) => {
          const n = c.node(id);
          for (let k = 0; k < 3 && n.raw!.raft.state !== "Leader"; k++) {
            n.raw!.campaign();
            drive(until);
          }
        };
        n1.raw!.campaign();
        drive();
        c.net.isolate(1);
        c.propose(n1, "e");
        drive();
        c.crash(n1, "idle");
        c.net.heal();
        campaignUntilLeader(2, () => n2.raw!.raft.state === "Leader");
        c.net.isolate(2);
        drive();
        c.crash(n2, "idle");
        c.net.heal();
        c.restart(n1);
        campaignUntilLeader(1, () => n1.raw!.raft.state === "Leader" && n1.raw!.raft.raftLog.committed >= 3);
        const node1Commit = n1.raw!.raft.raftLog.committed;
        c.crash(n1, "idle");
        c.restart(n2);
        try {
          campaignUntilLeader(2, () => false);
        } catch (e) {
          if (e instanceof SafetyViolation) return { violation: e, node1Commit };
          throw e;
        }
        return { node1Commit, leader: c.currentLeader()?.id };
      } finally {
        RaftLog.prototype.maybeCommit = original;
      }
    };

    const bad = scripted(true);
    expect(bad.node1Commit).toBe(3);
    expect(bad.violation?.property).toBe("leader completeness");
    expect(bad.violation?.message).toBe(
      "node 2 became leader of term 5 without entry 2/3, committed in term 4 (it holds an entry of term 3 there)",
    );
    // The correct rule: node 1 commits only once its term-4 entry is replicated, so node 3 has it
    // and refuses node 2; nobody wins and nothing committed is lost.
    const good = scripted(false);
    expect(good.violation).toBeUndefined();
    expect(good.node1Commit).toBe(4);
    expect(good.leader).toBeUndefined();
  });

  it("committing a previous-term entry by counting (§5.4.2, Figure 8) is found by random schedules", () => {
    // The Figure 8 window needs three short leaderships in a row, each failing at a precise
    // moment, with acknowledgements arriving entry by entry: in the default seed mix it shows
    // up in about 1 schedule in 700, so this test searches the schedule family where it is
    // likeliest (3 voters, the nemesis fault profile, one entry per MsgAppend, pre-vote and
    // check-quorum off), where about 1 seed in 40 finds it.
    const original = RaftLog.prototype.maybeCommit;
    RaftLog.prototype.maybeCommit = commitByCounting;
    try {
      const { error, tried } = firstFailure(range(2, 600, 2), (c) => {
        c.profile = "nemesis";
        c.aimedFaults = AIMED_FAULTS.nemesis;
        c.weights = NEMESIS_WEIGHTS;
        c.params.maxSizePerMsg = 1;
        c.params.preVote = false;
        c.params.checkQuorum = false;
      });
      console.log(`injected commit-by-counting bug: caught after ${tried} seeds: ${error?.message.split("\n")[0]}`);
      expect(error).toBeDefined();
      expect(error!.property).toBe("leader completeness");
    } finally {
      RaftLog.prototype.maybeCommit = original;
    }
  }, 120_000);

  it("a leader answering ReadIndex before committing an entry of its term (thesis §6.4) serves stale reads", () => {
    // A new leader does not know the latest commit index until it commits an entry of its own
    // term; the broken core answers reads at once with whatever commit index it has, which may
    // be below entries an earlier leader committed (and clients saw).
    const original = Raft.prototype.committedEntryInCurrentTerm;
    Raft.prototype.committedEntryInCurrentTerm = function () {
      return true;
    };
    try {
      const { error, tried } = firstFailure(range(1, 300));
      console.log(`injected read-before-first-commit bug: caught after ${tried} seeds: ${error?.message.split("\n")[0]}`);
      expect(error).toBeDefined();
      expect(error!.property).toBe("stale read");
      expect(error!.message).toContain(`SIM_SEED=${error!.seed}`);
    } finally {
      Raft.prototype.committedEntryInCurrentTerm = original;
    }
  }, 120_000);

  it("a leader answering ReadIndex without the heartbeat round (thesis §6.4) serves stale reads", () => {
    // The broken leader answers every read at once with its commit index, as if it held a
    // lease, so a deposed leader cut off from its successor answers below what the successor
    // committed. That needs two leaders at once, the old one still taking reads after the new
    // one committed: in the default seed mix about 1 schedule in 300 shows it (check-quorum
    // makes a cut-off leader step down about when a successor can be elected), so this test
    // searches the family where it is likeliest (3 voters, check-quorum off): about 1 in 35.
    const original = Raft.prototype.becomeLeader;
    Raft.prototype.becomeLeader = function (this: Raft) {
      original.call(this);
      this.readOnly = new ReadOnly("lease-based");
    };
    try {
      const { error, tried } = firstFailure(range(2, 400, 2), (c) => {
        c.params.checkQuorum = false;
      });
      console.log(`injected read-without-heartbeat bug: caught after ${tried} seeds: ${error?.message.split("\n")[0]}`);
      expect(error).toBeDefined();
      expect(error!.property).toBe("stale read");
    } finally {
      Raft.prototype.becomeLeader = original;
    }
  }, 120_000);
});
