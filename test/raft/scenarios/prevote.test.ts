// Scenario tests of pre-vote (Raft thesis §9.6): a node first asks whether it could win an
// election, for the next term, without changing its own term; only when a majority says yes
// does it become a real candidate. These tests check that a partitioned node does not inflate
// its term, does not disrupt a healthy leader when it comes back, that a pre-vote from a node
// whose log is behind is rejected, that a losing pre-candidate falls back to follower at its
// own term, and how pre-vote combines with check-quorum (which §9.6 pairs it with: pre-vote
// alone does not stop a node whose log is as up to date as the leader's).

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, brief, isMsg } from "./helpers.js";

/** Make node `id`'s next tick fire its election timeout. */
function aboutToTimeOut(c: Cluster, id: number): void {
  const r = c.raft(id);
  r.electionElapsed = r.randomizedElectionTimeout - 1;
}

describe("pre-vote", () => {
  it("a winning pre-candidate moves to the next term exactly once", () => {
    // Reference: thesis §9.6 — the pre-vote asks for term+1 but the term changes only
    // after a majority granted it.
    const c = new Cluster({ config: { preVote: true } });
    c.elect(1);
    expect(c.leaders()).toEqual([1]);
    expect(c.raft(1).term).toBe(1);
    const preVotes = c.sent(isMsg(MessageType.MsgRequestPreVote, 1));
    const votes = c.sent(isMsg(MessageType.MsgRequestVote, 1));
    expect(preVotes.map(brief)).toEqual(["MsgRequestPreVote 1->2 t1", "MsgRequestPreVote 1->3 t1"]);
    expect(votes.map(brief)).toEqual(["MsgRequestVote 1->2 t1", "MsgRequestVote 1->3 t1"]);
    // Every pre-vote precedes every real vote.
    const firstVote = c.trace.findIndex((t) => t.m.type === MessageType.MsgRequestVote);
    const lastPreVote = c.trace.map((t) => t.m.type).lastIndexOf(MessageType.MsgRequestPreVote);
    expect(lastPreVote).toBeLessThan(firstVote);
  });

  it("a partitioned node does not inflate its term", () => {
    // Reference: thesis §9.6 — without pre-vote an isolated server increments its term on
    // every election timeout; with it, the term stays put because no majority answers.
    const c = new Cluster({ config: { preVote: true } });
    c.elect(1);
    c.isolate(3);
    c.propose(1, "a");
    c.propose(1, "b");
    c.tick(3, 100); // ten election timeouts and more
    const r3 = c.raft(3);
    expect(r3.term).toBe(1);
    expect(r3.vote).toBe(1);
    expect(r3.state).toBe("PreCandidate");
    expect(c.node(3).storage.initialState().hardState.term).toBe(1);
    const preVotes = c.sent(isMsg(MessageType.MsgRequestPreVote, 3));
    expect(preVotes.length).toBeGreaterThanOrEqual(5);
    expect(new Set(preVotes.map((m) => m.term))).toEqual(new Set([2]));
    expect(c.sent(isMsg(MessageType.MsgRequestVote, 3))).toEqual([]);
  });

  it("a pre-vote from a node whose log is behind is rejected, and the pre-candidate returns to follower at its term", () => {
    // Reference: Raft §5.4.1 (up-to-date check) applied to pre-votes, thesis §9.6.
    const c = new Cluster({ config: { preVote: true } });
    c.elect(1);
    c.isolate(3);
    c.propose(1, "a"); // 1 and 2 now have a longer log than 3
    c.tick(3, 30);
    expect(c.raft(3).state).toBe("PreCandidate");
    c.heal();
    c.clearTrace();
    aboutToTimeOut(c, 3);
    c.node(3).node.tick();
    c.processReady(3);
    // 3 asks for term 2 ...
    expect(c.queue.map(brief)).toEqual(["MsgRequestPreVote 3->1 t2", "MsgRequestPreVote 3->2 t2"]);
    c.deliverQueued();
    c.processAll();
    // ... and both refuse at their own term 1, without changing their term or vote.
    const answers = c.queue.filter((m) => m.type === MessageType.MsgRequestPreVoteResponse);
    expect(answers.map(brief)).toEqual(["MsgRequestPreVoteResponse 1->3 t1 rej", "MsgRequestPreVoteResponse 2->3 t1 rej"]);
    expect(c.raft(1).state).toBe("Leader");
    expect(c.raft(2).vote).toBe(1);
    c.deliverIf((m) => m.type === MessageType.MsgRequestPreVoteResponse);
    // The pre-candidate lost: follower again, still at term 1, no leader known yet.
    const r3 = c.raft(3);
    expect(r3.state).toBe("Follower");
    expect(r3.term).toBe(1);
    expect(r3.lead).toBe(0);
  });

  it("a rejoining node with a stale log does not disrupt the leader", () => {
    // Reference: thesis §9.6 — the leader keeps its term and role when the partition heals.
    const c = new Cluster({ config: { preVote: true } });
    c.elect(1);
    c.isolate(3);
    c.propose(1, "a");
    c.propose(1, "b");
    c.tick(3, 50);
    c.heal();
    aboutToTimeOut(c, 3);
    c.tick(3, 1); // a pre-vote goes out right after the heal
    c.tickAll(60);
    expect(c.leaders()).toEqual([1]);
    for (const id of [1, 2, 3]) expect(c.raft(id).term).toBe(1);
    expect(c.raft(3).lead).toBe(1);
    expect(c.appliedData(3)).toEqual(["a", "b"]);
    expect(c.sent(isMsg(MessageType.MsgRequestVote, 3))).toEqual([]);
  });

  it("a pre-candidate rejected by a node at a higher term follows that term", () => {
    // Reference: Raft §5.1 — any message with a higher term updates the receiver's term; a
    // rejection carries the rejecter's term.
    const c = new Cluster({ config: { preVote: true } });
    c.elect(1);
    c.isolate(3);
    // Move 1 and 2 to term 2 through a new election that 3 misses.
    c.raft(2).electionElapsed = 0;
    c.node(2).node.campaign();
    c.stabilize();
    expect(c.leaders()).toEqual([2]);
    expect(c.raft(2).term).toBe(2);
    c.propose(2, "x");
    c.tick(3, 30);
    expect(c.raft(3).term).toBe(1);
    c.heal();
    c.clearTrace();
    aboutToTimeOut(c, 3);
    c.node(3).node.tick();
    c.processReady(3);
    c.deliverIf((m) => m.type === MessageType.MsgRequestPreVote);
    c.processAll();
    const answers = c.take((m) => m.type === MessageType.MsgRequestPreVoteResponse);
    expect(answers.map(brief)).toEqual(["MsgRequestPreVoteResponse 1->3 t2 rej", "MsgRequestPreVoteResponse 2->3 t2 rej"]);
    c.deliverOne(answers[0]!);
    expect(c.raft(3).state).toBe("Follower");
    expect(c.raft(3).term).toBe(2);
  });

  describe("with check-quorum (thesis §9.6 pairs the two)", () => {
    it("without check-quorum, a rejoining node whose log is as up to date wins its pre-vote and disrupts", () => {
      // This is the gap §9.6 closes by combining pre-vote with the leader lease of §4.2.3:
      // pre-vote alone only compares logs.
      const c = new Cluster({ config: { preVote: true } });
      c.elect(1);
      c.isolate(3);
      c.tick(3, 30);
      c.heal();
      aboutToTimeOut(c, 3);
      c.tick(3, 1);
      expect(c.leaders()).toEqual([3]);
      expect(c.raft(1).term).toBe(2);
    });

    it("followers in lease ignore the pre-votes of an up-to-date rejoining node; the leader keeps its term", () => {
      const c = new Cluster({ config: { preVote: true, checkQuorum: true } });
      c.elect(1);
      c.isolate(3);
      c.tick(3, 30);
      expect(c.raft(3).state).toBe("PreCandidate");
      c.heal();
      c.clearTrace();
      aboutToTimeOut(c, 3);
      c.tick(3, 1);
      // The pre-votes were delivered and not answered at all.
      expect(c.sent(isMsg(MessageType.MsgRequestPreVote, 3)).length).toBe(2);
      expect(c.sent((m) => m.type === MessageType.MsgRequestPreVoteResponse && m.to === 3)).toEqual([]);
      expect(c.raft(3).state).toBe("PreCandidate");
      c.tickAll(40);
      expect(c.leaders()).toEqual([1]);
      for (const id of [1, 2, 3]) {
        expect(c.raft(id).term).toBe(1);
        expect(c.raft(id).lead).toBe(1);
      }
    });

    it("when the leader really fails, the others still elect a new one and the old leader steps down", () => {
      // Reference: thesis §6.2 (check-quorum) and §9.6: once the followers' leases have
      // expired, pre-votes are granted again.
      const c = new Cluster({ voters: [1, 2, 3, 4, 5], config: { preVote: true, checkQuorum: true } });
      c.elect(1);
      c.propose(1, "before");
      c.isolate(1);
      c.tickAll(60);
      const others = c.leaders().filter((id) => id !== 1);
      expect(others.length).toBe(1);
      const newLeader = others[0]!;
      expect(c.raft(newLeader).term).toBe(2);
      // The isolated old leader stepped down by check-quorum without changing its term.
      expect(c.raft(1).state).not.toBe("Leader");
      expect(c.raft(1).term).toBe(1);
      c.propose(newLeader, "after");
      c.heal();
      c.tickAll(30);
      expect(c.leaders()).toEqual([newLeader]);
      for (const id of c.ids()) {
        expect(c.raft(id).term).toBe(2);
        expect(c.appliedData(id)).toEqual(["before", "after"]);
      }
    });
  });
});
