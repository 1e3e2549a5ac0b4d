// A seeded chaos scenario that mixes every topic of this folder on a five-node cluster:
// ticks, proposals (also from followers), partitions and random message loss, leader
// transfers, ReadIndex, compaction with snapshots, crashes and restarts, reportUnreachable,
// forced campaigns and membership changes (add/remove voters and learners). After every
// step the harness checks Election Safety and State Machine Safety (Raft §5.2, §5.4.3; see
// helpers.ts) and that no safe ReadIndex answer is older than the highest commit index any
// node knew when the read was requested (thesis §6.4). At the end the network heals and the
// members of the leader's configuration must converge on one leader and one applied log.
//
// The seed is printed in every failure; set RAFT_SCENARIO_SEED=<seed> to replay one run.
// An exploratory version of this run (more seeds, no snapshot reports on delivery at first)
// found the snapshot message storm now pinned in snapshot.test.ts.

import { describe, it } from "vitest";
import { type Config, SeededRandom, isRaftError } from "../../../runtime/raft/index.js";
import { Cluster, addLearner, addNode, removeNode, str, text } from "./helpers.js";

const CONFIGS: { name: string; config: Partial<Config> }[] = [
  { name: "plain", config: {} },
  { name: "pre-vote", config: { preVote: true } },
  { name: "check-quorum", config: { checkQuorum: true } },
  { name: "pre-vote + check-quorum", config: { preVote: true, checkQuorum: true } },
  { name: "lease-based reads", config: { checkQuorum: true, readOnlyOption: "lease-based" } },
  { name: "tight flow control", config: { maxInflightMsgs: 2, maxSizePerMsg: 40 } },
];

const SEEDS_PER_CONFIG = 12;
const STEPS = 300;

function describeCluster(c: Cluster): string {
  return c
    .ids()
    .map((id) => {
      const r = c.raft(id);
      return `${id}: ${r.state} term=${r.term} lead=${r.lead} last=${r.raftLog.lastIndex()} commit=${r.raftLog.committed} voters=[${r.trk.voterIds()}] learners=[${r.trk.learnerIds()}]`;
    })
    .join("\n");
}

/** One run; throws (with the seed) on a safety violation or when the cluster does not converge. */
function run(seed: number, config: Partial<Config>): void {
  const rnd = new SeededRandom(seed);
  const c = new Cluster({ voters: [1, 2, 3, 4, 5], seed, config });
  // A transport reports snapshot outcomes; losing a report would stall a follower forever.
  c.autoReportSnapshots = true;
  const lossRate = rnd.intn(3) / 10;
  const lossy = () => {
    c.dropIf = () => rnd.next() < lossRate;
  };
  lossy();
  const requiredReadIndex = new Map<string, number>();
  let seq = 0;
  const checkReads = () => {
    if (config.readOnlyOption === "lease-based") return; // a lease trusts clocks: not checked
    for (const id of c.ids()) {
      for (const rs of c.node(id).readStates) {
        const ctx = str(rs.requestCtx);
        const need = requiredReadIndex.get(ctx);
        if (need !== undefined && rs.index < need) throw new Error(`stale read ${ctx} on ${id}: index ${rs.index} < ${need}`);
      }
    }
  };

  for (let step = 0; step < STEPS; step++) {
    const ids = c.ids();
    const id = ids[rnd.intn(ids.length)]!;
    const other = ids[rnd.intn(ids.length)]!;
    const node = c.node(id).node;
    const roll = rnd.intn(100);
    try {
      if (roll < 40) {
        c.tickAll(1);
      } else if (roll < 60) {
        node.propose(text(`p${seq++}`));
      } else if (roll < 65) {
        c.heal();
        lossy();
        c.isolate(other);
      } else if (roll < 70) {
        c.heal();
        lossy();
      } else if (roll < 73) {
        node.transferLeader(other);
      } else if (roll < 78) {
        const ctx = `r${seq++}`;
        const need = Math.max(...ids.map((x) => c.raft(x).raftLog.committed));
        node.readIndex(text(ctx));
        requiredReadIndex.set(ctx, need);
      } else if (roll < 81) {
        const sn = c.node(id);
        if (sn.appliedIndex > sn.storage.firstIndex() + 2) {
          sn.storage.createSnapshot(sn.appliedIndex, sn.storage.initialState().confState, text(`snap@${sn.appliedIndex}`));
          sn.storage.compact(sn.appliedIndex);
        }
      } else if (roll < 84) {
        c.restart(id);
      } else if (roll < 86) {
        node.reportUnreachable(other);
      } else if (roll < 88) {
        node.campaign();
      } else if (roll < 90) {
        const kind = rnd.intn(3);
        node.proposeConfChange(kind === 0 ? addLearner(other) : kind === 1 ? addNode(other) : removeNode(other));
      }
      c.stabilize();
      checkReads();
    } catch (err) {
      if (isRaftError(err)) continue; // a refused proposal, read or conf change
      throw new Error(`seed ${seed}, step ${step}: ${(err as Error).message}\n${describeCluster(c)}`);
    }
  }

  // Heal and let the leader's configuration converge. The leader snapshots now and then,
  // as an application would, so that a node re-added far behind can catch up.
  c.heal();
  for (let i = 0; i < 400; i++) {
    c.tickAll(1);
    const leaders = c.leaders().filter((l) => c.raft(l).trk.progress.has(l));
    if (i % 20 === 19) {
      for (const l of leaders) {
        const sn = c.node(l);
        if (sn.appliedIndex > sn.storage.snapshot().metadata.index && sn.appliedIndex >= sn.storage.firstIndex()) {
          sn.storage.createSnapshot(sn.appliedIndex, sn.storage.initialState().confState, text("final"));
          sn.storage.compact(sn.appliedIndex);
        }
      }
    }
    if (leaders.length !== 1) continue;
    const l = leaders[0]!;
    const lr = c.raft(l);
    if (lr.leadTransferee !== 0) continue;
    const members = lr.trk.memberIds();
    // Converged: every member follows this leader in its term and applied its whole log.
    const done = members.every((m) => {
      const r = c.raft(m);
      return (
        r.term === lr.term &&
        r.lead === l &&
        r.raftLog.lastIndex() === lr.raftLog.lastIndex() &&
        r.raftLog.lastTerm() === lr.raftLog.lastTerm() && // with Log Matching: the same log
        c.node(m).appliedIndex === lr.raftLog.committed
      );
    });
    if (done && lr.raftLog.committed === lr.raftLog.lastIndex()) return;
  }
  throw new Error(`seed ${seed}: no convergence\n${describeCluster(c)}`);
}

describe("chaos (seeded)", () => {
  const only = process.env.RAFT_SCENARIO_SEED;
  CONFIGS.forEach(({ name, config }, ci) => {
    it(`stays safe and converges: ${name}`, () => {
      const seeds = only !== undefined ? [Number(only)] : Array.from({ length: SEEDS_PER_CONFIG }, (_, i) => 1000 * (ci + 1) + i);
      for (const seed of seeds) run(seed, config);
    });
  });
});
