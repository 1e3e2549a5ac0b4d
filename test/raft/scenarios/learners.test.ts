// Scenario tests of learners (non-voting members, thesis §4.2.1 "catching up new servers"):
// a learner receives the log like any follower, but it never campaigns (however long it
// goes without a leader), its votes are never counted and it does not count towards the
// commit quorum. Promoting it (AddNode for an existing learner) makes it a voter that takes
// part in commits and can then win an election.

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, addNode, isMsg, msg } from "./helpers.js";

describe("learners", () => {
  it("receive the log and apply what the voters apply", () => {
    const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
    c.elect(1);
    for (const s of ["a", "b"]) c.propose(1, s);
    c.propose(4, "from the learner"); // forwarded like any follower's proposal
    expect(c.appliedData(4)).toEqual(["a", "b", "from the learner"]);
    expect(c.logOf(4)).toEqual(c.logOf(1));
    expect(c.raft(1).trk.progress.get(4)!.isLearner).toBe(true);
    expect(c.raft(4).isLearner).toBe(true);
  });

  it("never campaign, even past many election timeouts", () => {
    const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
    // No leader at all, and only the learner ticks.
    c.tick(4, 300);
    const r4 = c.raft(4);
    expect(r4.state).toBe("Follower");
    expect(r4.term).toBe(0);
    expect(c.trace).toEqual([]);
    // Asking it explicitly does nothing either.
    c.node(4).node.campaign();
    c.stabilize();
    expect(r4.state).toBe("Follower");
    expect(c.trace).toEqual([]);
    // Nor does a MsgTimeoutNow.
    c.deliverOne(msg({ type: MessageType.MsgTimeoutNow, from: 1, to: 4, term: 0 }));
    c.stabilize();
    expect(r4.state).toBe("Follower");
    expect(r4.term).toBe(0);
  });

  it("a learner that lost its leader stays a follower while the voters elect a new one", () => {
    const c = new Cluster({ voters: [1, 2, 3], learners: [4], config: { preVote: true, checkQuorum: true } });
    c.elect(1);
    c.isolate(1);
    c.tickAll(100);
    expect(c.raft(4).state).toBe("Follower");
    const leader = c.leaders().find((id) => id !== 1)!;
    expect([2, 3]).toContain(leader);
    expect(c.raft(4).lead).toBe(leader);
    expect(c.sent((m) => m.from === 4 && (m.type === MessageType.MsgRequestVote || m.type === MessageType.MsgRequestPreVote))).toEqual([]);
  });

  it("are not asked for votes and their votes are never counted", () => {
    const c = new Cluster({ voters: [1, 2, 3], learners: [4, 5] });
    c.isolate(1);
    c.node(1).node.campaign();
    c.stabilize();
    const r1 = c.raft(1);
    expect(r1.state).toBe("Candidate");
    expect(c.sent(isMsg(MessageType.MsgRequestVote, 1)).map((m) => m.to)).toEqual([2, 3]);
    // Grants from both learners: 1 + 2 "votes" would be a majority of 5, but only the
    // voters count (1 of 3).
    for (const from of [4, 5]) {
      c.node(1).node.step(msg({ type: MessageType.MsgRequestVoteResponse, from, to: 1, term: r1.term }));
    }
    c.processAll();
    expect(r1.state).toBe("Candidate");
    expect(r1.trk.tallyVotes()).toMatchObject({ granted: 1, result: "Pending" });
    // A voter's grant wins it.
    c.node(1).node.step(msg({ type: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: r1.term }));
    expect(r1.state).toBe("Leader");
  });

  it("do not count for the commit quorum", () => {
    const c = new Cluster({ voters: [1, 2, 3], learners: [4, 5] });
    c.elect(1);
    const before = c.raft(1).raftLog.committed;
    c.cut(1, 2);
    c.cut(1, 3);
    c.propose(1, "needs a voter");
    // The learners have it; leader + 2 learners = 3 of 5 nodes, but 1 of 3 voters.
    for (const id of [4, 5]) expect(c.raft(1).trk.progress.get(id)!.match).toBe(before + 1);
    expect(c.raft(1).raftLog.committed).toBe(before);
    expect(c.appliedData(4)).toEqual([]);
    c.mend(1, 2);
    c.tick(1, 1);
    expect(c.raft(1).raftLog.committed).toBe(before + 1);
    expect(c.appliedData(4)).toEqual(["needs a voter"]);
  });

  it("promoting a learner (AddNode) makes it a voter that counts and can win an election", () => {
    const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
    c.elect(1);
    c.propose(1, "a");
    c.node(1).node.proposeConfChange(addNode(4));
    c.stabilize();
    for (const id of c.ids()) {
      expect(c.raft(id).trk.voterIds()).toEqual([1, 2, 3, 4]);
      expect(c.raft(id).trk.learnerIds()).toEqual([]);
      expect(c.node(id).storage.initialState().confState).toEqual({ voters: [1, 2, 3, 4], learners: [] });
    }
    expect(c.raft(4).isLearner).toBe(false);
    // The promoted node keeps its replication state on the leader.
    const pr4 = c.raft(1).trk.progress.get(4)!;
    expect(pr4.isLearner).toBe(false);
    expect(pr4.state).toBe("Replicate");
    // It now counts: with 2 and 3 cut off, 1 + 4 are 2 of 4, not a majority ...
    c.cut(1, 2);
    c.cut(1, 3);
    const committed = c.raft(1).raftLog.committed;
    c.propose(1, "b");
    expect(c.raft(1).raftLog.committed).toBe(committed);
    // ... and with 3 back, 1 + 3 + 4 are.
    c.mend(1, 3);
    c.tick(1, 1);
    expect(c.raft(1).raftLog.committed).toBe(committed + 1);
    c.heal();
    c.stabilize();
    // And it can win an election.
    c.elect(4);
    expect(c.leaders()).toEqual([4]);
    expect(c.raft(4).term).toBe(2);
    c.propose(4, "c");
    for (const id of c.ids()) expect(c.appliedData(id)).toEqual(["a", "b", "c"]);
  });

  it("do not count for check-quorum: a leader hearing only learners steps down", () => {
    const c = new Cluster({ voters: [1, 2, 3], learners: [4, 5], config: { checkQuorum: true } });
    c.elect(1);
    c.cut(1, 2);
    c.cut(1, 3);
    c.tick(1, 20);
    expect(c.raft(1).state).toBe("Follower");
    const c2 = new Cluster({ voters: [1, 2, 3], learners: [4, 5], config: { checkQuorum: true } });
    c2.elect(1);
    c2.cut(1, 3);
    c2.tick(1, 20);
    expect(c2.raft(1).state).toBe("Leader");
  });
});
