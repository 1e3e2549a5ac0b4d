// Scenario tests of leadership transfer (Raft thesis §3.10): the leader stops taking
// proposals, brings the transferee's log up to date, then sends it MsgTimeoutNow; the
// transferee campaigns at once (skipping pre-vote, and with a "CampaignTransfer" context
// that lets it through the followers' leases), wins at term+1. A transfer that does not
// finish within an election timeout is abandoned and proposals are taken again. Requests
// for the leader itself, a learner or a non-member are ignored; a follower forwards the
// request to the leader.

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, addNode, brief, isMsg, raftErrorOf, removeNode, str, text } from "./helpers.js";

describe("leader transfer", () => {
  it("to an up-to-date follower: MsgTimeoutNow at once, the follower leads term+1", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    c.clearTrace();
    c.node(1).node.transferLeader(2);
    expect(c.raft(1).leadTransferee).toBe(2);
    const rd = c.processReady(1)!;
    expect(rd.messages.map(brief)).toEqual(["MsgTimeoutNow 1->2 t1"]);
    c.stabilize();
    expect(c.leaders()).toEqual([2]);
    expect(c.raft(2).term).toBe(2);
    const votes = c.sent(isMsg(MessageType.MsgRequestVote, 2));
    expect(votes.map((m) => `${brief(m)} ${str(m.context)}`)).toEqual([
      "MsgRequestVote 2->1 t2 CampaignTransfer",
      "MsgRequestVote 2->3 t2 CampaignTransfer",
    ]);
    expect(c.raft(1).state).toBe("Follower");
    expect(c.raft(1).leadTransferee).toBe(0);
    c.propose(2, "b");
    for (const id of c.ids()) expect(c.appliedData(id)).toEqual(["a", "b"]);
  });

  it("to a lagging follower: appends first, MsgTimeoutNow only once it has caught up", () => {
    const c = new Cluster();
    c.elect(1);
    c.dropIf = isMsg(MessageType.MsgAppend, 1, 3);
    c.propose(1, "a");
    c.propose(1, "b");
    c.dropIf = undefined;
    const last = c.raft(1).raftLog.lastIndex();
    expect(c.raft(1).trk.progress.get(3)!.match).toBeLessThan(last);
    c.clearTrace();
    c.node(1).node.transferLeader(3);
    const rd = c.processReady(1)!;
    expect(rd.messages.map(brief)).toEqual(["MsgAppend 1->3 t1"]);
    c.stabilize();
    const kinds = c.trace.map((t) => t.m);
    const timeoutNow = kinds.findIndex((m) => m.type === MessageType.MsgTimeoutNow);
    const caughtUp = kinds.findIndex(
      (m) => m.type === MessageType.MsgAppendResponse && m.from === 3 && !m.reject && m.index === last,
    );
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(timeoutNow).toBeGreaterThan(caughtUp);
    expect(c.sent(isMsg(MessageType.MsgTimeoutNow)).map(brief)).toEqual(["MsgTimeoutNow 1->3 t1"]);
    expect(c.leaders()).toEqual([3]);
    expect(c.raft(3).term).toBe(2);
    expect(c.appliedData(3)).toEqual(["a", "b"]);
  });

  for (const lagging of [true, false]) {
    it(`times out when the ${lagging ? "lagging" : "up-to-date"} transferee is unreachable: aborted after an election timeout, proposals accepted again`, () => {
      const c = new Cluster();
      c.elect(1);
      c.isolate(3);
      if (lagging) c.propose(1, "a");
      c.node(1).node.transferLeader(3);
      c.stabilize();
      const r1 = c.raft(1);
      expect(r1.leadTransferee).toBe(3);
      // Thesis §3.10: no new client requests during the transfer.
      expect(raftErrorOf(() => c.node(1).node.propose(text("refused")))?.code).toBe("ProposalDropped");
      expect(raftErrorOf(() => c.node(1).node.proposeConfChange(addNode(4)))?.code).toBe("ProposalDropped");
      // A follower's forwarded proposal is dropped on the leader as well.
      c.node(2).node.propose(text("forwarded"));
      c.stabilize();
      expect(c.stepErrors.map((e) => e.code)).toEqual(["ProposalDropped"]);
      c.tick(1, r1.electionTimeout - 1);
      expect(r1.leadTransferee).toBe(3);
      c.tick(1, 1);
      expect(r1.leadTransferee).toBe(0);
      expect(r1.state).toBe("Leader");
      expect(r1.term).toBe(1);
      c.propose(1, "accepted");
      expect(c.appliedData(2)).toEqual(lagging ? ["a", "accepted"] : ["accepted"]);
    });
  }

  it("a repeated request for the same transferee does not restart the timer", () => {
    const c = new Cluster();
    c.elect(1);
    c.isolate(3);
    c.node(1).node.transferLeader(3);
    c.stabilize();
    c.tick(1, 6);
    c.node(1).node.transferLeader(3);
    c.stabilize();
    c.tick(1, 4);
    expect(c.raft(1).leadTransferee).toBe(0);
  });

  it("is aborted by a transfer to another node, which then completes", () => {
    const c = new Cluster();
    c.elect(1);
    c.isolate(3);
    c.propose(1, "a");
    c.node(1).node.transferLeader(3);
    c.stabilize();
    expect(c.raft(1).leadTransferee).toBe(3);
    c.heal();
    c.cut(1, 3); // 3 stays unreachable from the leader
    c.node(1).node.transferLeader(2);
    expect(c.raft(1).leadTransferee).toBe(2);
    c.stabilize();
    expect(c.leaders()).toEqual([2]);
    expect(c.raft(2).term).toBe(2);
    expect(c.sent(isMsg(MessageType.MsgTimeoutNow)).map(brief)).toEqual(["MsgTimeoutNow 1->2 t1"]);
  });

  it("is aborted when the transferee is removed from the configuration", () => {
    const c = new Cluster();
    c.elect(1);
    c.isolate(3);
    c.propose(1, "a");
    c.node(1).node.proposeConfChange(removeNode(3));
    c.node(1).node.transferLeader(3);
    expect(c.raft(1).leadTransferee).toBe(3);
    c.stabilize(); // the removal commits with 1 and 2 and is applied
    expect(c.raft(1).trk.voterIds()).toEqual([1, 2]);
    expect(c.raft(1).leadTransferee).toBe(0);
    c.propose(1, "b");
    expect(c.appliedData(2)).toEqual(["a", "b"]);
  });

  describe("ignored requests", () => {
    it("to the leader itself, a learner or a non-member", () => {
      const c = new Cluster({ voters: [1, 2, 3], learners: [4] });
      c.elect(1);
      for (const target of [1, 4, 9]) {
        c.node(1).node.transferLeader(target);
        expect(c.raft(1).leadTransferee).toBe(0);
        expect(c.node(1).node.hasReady()).toBe(false);
      }
      c.tickAll(3);
      expect(c.leaders()).toEqual([1]);
      expect(c.raft(1).term).toBe(1);
      c.propose(1, "still taken");
      expect(c.appliedData(4)).toEqual(["still taken"]);
    });

    it("a request for the leader itself cancels a transfer in flight", () => {
      const c = new Cluster();
      c.elect(1);
      c.isolate(3);
      c.node(1).node.transferLeader(3);
      c.stabilize();
      expect(c.raft(1).leadTransferee).toBe(3);
      c.node(1).node.transferLeader(1);
      expect(c.raft(1).leadTransferee).toBe(0);
      c.propose(1, "ok");
      expect(c.appliedData(2)).toEqual(["ok"]);
    });

    it("on a follower that knows no leader: dropped silently", () => {
      const c = new Cluster();
      c.node(2).node.transferLeader(3);
      expect(c.node(2).node.hasReady()).toBe(false);
    });
  });

  it("a request on a follower is forwarded to the leader", () => {
    const c = new Cluster();
    c.elect(1);
    c.clearTrace();
    c.node(2).node.transferLeader(3);
    const rd = c.processReady(2)!;
    // The forwarded request names the transferee in `from`, as the leader expects, and
    // carries the follower's term (a stale one from an older term is ignored by §5.1).
    expect(rd.messages.map(brief)).toEqual(["MsgTransferLeader 3->1 t1"]);
    c.stabilize();
    expect(c.leaders()).toEqual([3]);
    expect(c.raft(3).term).toBe(2);
  });

  it("gets through the followers' leases with check-quorum, and skips pre-vote", () => {
    // The transfer vote carries "CampaignTransfer", which the lease check lets through
    // (thesis §4.2.3 makes an exception for leadership transfer), and MsgTimeoutNow starts a
    // real election at once.
    const c = new Cluster({ config: { checkQuorum: true, preVote: true } });
    c.elect(1);
    c.propose(1, "a");
    c.clearTrace();
    c.node(1).node.transferLeader(3);
    c.stabilize();
    expect(c.leaders()).toEqual([3]);
    expect(c.raft(3).term).toBe(2);
    expect(c.sent(isMsg(MessageType.MsgRequestPreVote))).toEqual([]);
    expect(c.raft(2).vote).toBe(3);
  });
});
