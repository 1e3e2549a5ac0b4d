// Scenario tests of check-quorum and the leader lease (Raft thesis §6.2 and §4.2.3): a
// leader that has not heard from a majority within an election timeout steps down, and a
// follower that has heard from a leader within the minimum election timeout ignores vote
// requests (even of a higher term), so a server that cannot see the leader cannot disrupt
// the cluster. A leader that keeps hearing from a majority stays leader indefinitely.

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, brief, isMsg, raftErrorOf, text } from "./helpers.js";

describe("check-quorum", () => {
  it("a leader cut off from the quorum steps down after an election timeout without hearing from it", () => {
    // Reference: thesis §6.2 — "a leader steps down if an election timeout elapses without a
    // successful round of heartbeats to a majority of its cluster".
    const c = new Cluster({ config: { checkQuorum: true } });
    c.elect(1);
    const r1 = c.raft(1);
    expect(r1.electionElapsed).toBe(0);
    c.isolate(1);
    // The followers were heard during the first window (their election-time acks), so the
    // first check passes; the second finds nobody and steps down.
    c.tick(1, 10);
    expect(r1.state).toBe("Leader");
    c.tick(1, 9);
    expect(r1.state).toBe("Leader");
    c.tick(1, 1);
    expect(r1.state).toBe("Follower");
    expect(r1.term).toBe(1);
    expect(r1.lead).toBe(0);
    // Without a leader it takes no proposals.
    expect(raftErrorOf(() => c.node(1).node.propose(text("x")))?.code).toBe("ProposalDropped");
  });

  it("without check-quorum the same isolated leader stays leader", () => {
    // The contrast that shows the step-down above comes from check-quorum.
    const c = new Cluster();
    c.elect(1);
    c.isolate(1);
    c.tick(1, 100);
    expect(c.raft(1).state).toBe("Leader");
  });

  it("a leader that keeps hearing from a quorum stays leader", () => {
    // Reference: thesis §6.2 — two of five followers lost is still a majority heard.
    const c = new Cluster({ voters: [1, 2, 3, 4, 5], config: { checkQuorum: true } });
    c.elect(1);
    c.isolate(4);
    c.isolate(5);
    c.tickAll(100);
    expect(c.leaders()).toEqual([1]);
    expect(c.raft(1).term).toBe(1);
    c.propose(1, "still serving");
    expect(c.appliedData(2)).toEqual(["still serving"]);
    // Every check-quorum round saw 2 and 3: they are marked active right after one.
    const active = c.node(1).node.status().progress.filter((p) => p.recentActive).map((p) => p.id);
    expect(active).toEqual([1, 2, 3]);
  });

  it("a leader that loses one link at a time keeps its quorum (with pre-vote, the cut-off follower cannot disrupt)", () => {
    // Cut 1-2 first, then heal it and cut 1-3: at every moment 2 of 3 are heard. Pre-vote
    // keeps the follower that misses the leader from raising its term (without it, that
    // follower's higher term would depose the leader on healing: see disruptive-rejoin).
    const c = new Cluster({ config: { checkQuorum: true, preVote: true } });
    c.elect(1);
    c.cut(1, 2);
    c.tickAll(25);
    expect(c.leaders()).toEqual([1]);
    c.heal();
    c.cut(1, 3);
    c.tickAll(25);
    expect(c.leaders()).toEqual([1]);
    for (const id of [1, 2, 3]) expect(c.raft(id).term).toBe(1);
  });

  describe("leader lease (thesis §4.2.3)", () => {
    it("followers in lease ignore vote requests from a higher-term node", () => {
      const c = new Cluster({ config: { checkQuorum: true } });
      c.elect(1);
      c.isolate(3);
      c.tick(3, 50); // 3 campaigns alone, raising its term
      const t3 = c.raft(3).term;
      expect(t3).toBeGreaterThan(2);
      expect(c.raft(3).state).toBe("Candidate");
      c.heal();
      c.clearTrace();
      const r3 = c.raft(3);
      r3.electionElapsed = r3.randomizedElectionTimeout - 1;
      c.node(3).node.tick();
      c.processReady(3);
      expect(c.queue.map(brief)).toEqual([`MsgRequestVote 3->1 t${t3 + 1}`, `MsgRequestVote 3->2 t${t3 + 1}`]);
      c.deliverQueued();
      c.processAll();
      // Ignored: no answer, no term change, no new vote, leader unchanged.
      expect(c.queue).toEqual([]);
      expect(c.raft(1).state).toBe("Leader");
      expect(c.raft(1).term).toBe(1);
      expect(c.raft(2).term).toBe(1);
      expect(c.raft(2).vote).toBe(1);
      expect(c.raft(2).lead).toBe(1);
    });

    it("once the lease has expired, the same vote request is taken", () => {
      const c = new Cluster({ config: { checkQuorum: true } });
      c.elect(1);
      const r2 = c.raft(2);
      // 2 has not heard from the leader for a whole election timeout.
      r2.electionElapsed = r2.electionTimeout;
      c.deliverOne({
        ...c.sent(isMsg(MessageType.MsgRequestVote, 1, 2))[0]!,
        from: 3,
        term: 5,
        index: c.raft(2).raftLog.lastIndex(),
        logTerm: 1,
      });
      expect(r2.term).toBe(5);
      expect(r2.vote).toBe(3);
      expect(r2.lead).toBe(0);
    });

    it("without check-quorum a follower takes the higher-term vote request at once", () => {
      // The contrast: Raft §5.1 alone makes the follower adopt the higher term.
      const c = new Cluster();
      c.elect(1);
      const r2 = c.raft(2);
      expect(r2.electionElapsed).toBe(0);
      c.deliverOne({
        ...c.sent(isMsg(MessageType.MsgRequestVote, 1, 2))[0]!,
        from: 3,
        term: 5,
        index: r2.raftLog.lastIndex(),
        logTerm: 1,
      });
      expect(r2.term).toBe(5);
      expect(r2.vote).toBe(3);
    });

    it("a leader with check-quorum ignores a higher-term vote request too", () => {
      const c = new Cluster({ config: { checkQuorum: true } });
      c.elect(1);
      c.tickAll(7);
      c.deliverOne({
        ...c.sent(isMsg(MessageType.MsgRequestVote, 1, 2))[0]!,
        from: 3,
        to: 1,
        term: 9,
        index: 100,
        logTerm: 9,
      });
      c.processAll();
      expect(c.raft(1).state).toBe("Leader");
      expect(c.raft(1).term).toBe(1);
      expect(c.queue).toEqual([]);
    });
  });
});
