// Scenario tests of ReadIndex, the linearizable read barrier of Raft thesis §6.4.
//
// Safe option: the leader records its commit index, confirms it is still leader with a
// heartbeat round carrying the request context, and answers once a majority acknowledged;
// requests queued before an acknowledged one are answered with it (batching). Lease-based
// option (§6.4.1, needs check-quorum): the leader answers at once. A follower forwards the
// request and gets a MsgReadIndexResp. A fresh leader holds requests until it has committed
// an entry of its own term (its commit index may be stale before that). A single voter
// answers at once. A node that knows no leader refuses (ProposalDropped).

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, brief, isMsg, raftErrorOf, str, text } from "./helpers.js";
import { describeMessage } from "../../../runtime/raft/index.js";

const reads = (c: Cluster, id: number) => c.node(id).readStates.map((rs) => `${str(rs.requestCtx)}@${rs.index}`);

describe("ReadIndex", () => {
  describe("safe (heartbeat round)", () => {
    it("answers at the commit index, only after a quorum acknowledged the heartbeat round", () => {
      const c = new Cluster({ voters: [1, 2, 3, 4, 5] });
      c.elect(1);
      c.propose(1, "a");
      const commit = c.raft(1).raftLog.committed;
      expect(commit).toBe(2);
      c.clearTrace();
      c.node(1).node.readIndex(text("r1"));
      const rd = c.processReady(1)!;
      expect(rd.readStates).toEqual([]);
      expect(rd.messages.map(describeMessage)).toEqual([
        `1->2 MsgHeartbeat Term:1 Log:0/0 Commit:2 Context:"r1"`,
        `1->3 MsgHeartbeat Term:1 Log:0/0 Commit:2 Context:"r1"`,
        `1->4 MsgHeartbeat Term:1 Log:0/0 Commit:2 Context:"r1"`,
        `1->5 MsgHeartbeat Term:1 Log:0/0 Commit:2 Context:"r1"`,
      ]);
      // One follower's ack plus the leader's own: 2 of 5, not yet a quorum.
      c.deliverIf(isMsg(MessageType.MsgHeartbeat, 1, 2));
      c.processAll();
      c.deliverIf(isMsg(MessageType.MsgHeartbeatResponse, 2, 1));
      c.processAll();
      expect(reads(c, 1)).toEqual([]);
      // A second follower: 3 of 5.
      c.deliverIf(isMsg(MessageType.MsgHeartbeat, 1, 3));
      c.processAll();
      c.deliverIf(isMsg(MessageType.MsgHeartbeatResponse, 3, 1));
      c.processAll();
      expect(reads(c, 1)).toEqual([`r1@${commit}`]);
      // The later acks do not answer it twice.
      c.stabilize();
      expect(reads(c, 1)).toEqual([`r1@${commit}`]);
    });

    it("acknowledgements from learners do not count towards the quorum", () => {
      const c = new Cluster({ voters: [1, 2, 3], learners: [4, 5] });
      c.elect(1);
      c.cut(1, 2);
      c.cut(1, 3);
      c.clearTrace();
      c.node(1).node.readIndex(text("r"));
      c.stabilize();
      expect(c.sent(isMsg(MessageType.MsgHeartbeatResponse)).map((m) => m.from)).toEqual([4, 5]);
      expect(reads(c, 1)).toEqual([]);
      c.mend(1, 2);
      c.tick(1, 1);
      expect(reads(c, 1)).toEqual(["r@1"]);
    });

    it("records the commit index at request time, not at answer time", () => {
      const c = new Cluster();
      c.elect(1);
      c.node(1).node.readIndex(text("early"));
      c.processReady(1);
      c.take(isMsg(MessageType.MsgHeartbeat)); // that round is lost
      c.propose(1, "x"); // commit moves to 2
      expect(c.raft(1).raftLog.committed).toBe(2);
      c.tick(1, 1); // the next heartbeat carries the pending context
      expect(reads(c, 1)).toEqual(["early@1"]);
    });

    it("batches concurrent reads: an ack of the latest answers every earlier one, in order", () => {
      const c = new Cluster();
      c.elect(1);
      c.propose(1, "a");
      for (const ctx of ["r1", "r2", "r3"]) c.node(1).node.readIndex(text(ctx));
      c.processReady(1);
      const hbs = c.take(isMsg(MessageType.MsgHeartbeat));
      expect(hbs.map((m) => `${m.to}:${str(m.context)}`)).toEqual(["2:r1", "3:r1", "2:r2", "3:r2", "2:r3", "3:r3"]);
      // Only the round of r3 gets through.
      for (const m of hbs.filter((m) => str(m.context) === "r3")) c.deliverOne(m);
      c.stabilize();
      expect(reads(c, 1)).toEqual(["r1@2", "r2@2", "r3@2"]);
      expect(c.raft(1).readOnly.pendingCount()).toBe(0);
    });

    it("a plain heartbeat round carries the newest pending context when the read's own round is lost", () => {
      const c = new Cluster();
      c.elect(1);
      c.node(1).node.readIndex(text("a"));
      c.node(1).node.readIndex(text("b"));
      c.processReady(1);
      c.take(isMsg(MessageType.MsgHeartbeat));
      c.clearTrace();
      c.tick(1, 1);
      expect(c.sent(isMsg(MessageType.MsgHeartbeat, 1)).map((m) => str(m.context))).toEqual(["b", "b"]);
      expect(reads(c, 1)).toEqual(["a@1", "b@1"]);
    });

    it("a read pending on a leader that is deposed is never answered", () => {
      // Thesis §6.4: the answer must come from a node that is still leader.
      const c = new Cluster();
      c.elect(1);
      c.node(1).node.readIndex(text("lost"));
      c.processReady(1);
      c.take(isMsg(MessageType.MsgHeartbeat));
      c.elect(2);
      expect(c.leaders()).toEqual([2]);
      c.tickAll(5);
      expect(reads(c, 1)).toEqual([]);
      expect(c.raft(1).readOnly.pendingCount()).toBe(0);
    });
  });

  describe("lease-based (thesis §6.4.1)", () => {
    it("is answered at once on the leader, without a heartbeat round", () => {
      const c = new Cluster({ config: { checkQuorum: true, readOnlyOption: "lease-based" } });
      c.elect(1);
      c.propose(1, "a");
      c.node(1).node.readIndex(text("lease"));
      const rd = c.processReady(1)!;
      expect(rd.readStates.map((rs) => `${str(rs.requestCtx)}@${rs.index}`)).toEqual(["lease@2"]);
      expect(rd.messages).toEqual([]);
    });

    it("a follower's forwarded request is answered at once", () => {
      const c = new Cluster({ config: { checkQuorum: true, readOnlyOption: "lease-based" } });
      c.elect(1);
      c.clearTrace();
      c.node(3).node.readIndex(text("f"));
      c.stabilize();
      expect(c.trace.map((t) => brief(t.m))).toEqual(["MsgReadIndex 3->1 t0", "MsgReadIndexResp 1->3 t1"]);
      expect(reads(c, 3)).toEqual(["f@1"]);
    });

    it("a fresh leader holds lease reads until it commits an entry of its term", () => {
      const c = new Cluster({ config: { checkQuorum: true, readOnlyOption: "lease-based" } });
      c.node(1).node.campaign();
      c.processReady(1);
      c.deliverQueued();
      c.processAll();
      c.deliverQueued();
      expect(c.raft(1).state).toBe("Leader");
      c.node(1).node.readIndex(text("held"));
      expect(c.processReady(1)!.readStates).toEqual([]);
      c.stabilize();
      expect(reads(c, 1)).toEqual(["held@1"]);
    });

    it("requires check-quorum", () => {
      expect(() => new Cluster({ config: { readOnlyOption: "lease-based" } })).toThrow(/checkQuorum/);
    });
  });

  it("on a follower: forwarded to the leader, confirmed by a heartbeat round, answered with MsgReadIndexResp", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(2, "a");
    c.clearTrace();
    c.node(2).node.readIndex(text("f1"));
    c.stabilize();
    const kinds = c.trace.map((t) => brief(t.m));
    expect(kinds[0]).toBe("MsgReadIndex 2->1 t0");
    const fwd = c.trace[0]!.m;
    expect(str(fwd.entries[0]!.data)).toBe("f1");
    // The heartbeat round with the request's context comes before the answer.
    const hb = c.trace.findIndex((t) => t.m.type === MessageType.MsgHeartbeatResponse && str(t.m.context) === "f1");
    const resp = c.trace.findIndex((t) => t.m.type === MessageType.MsgReadIndexResp);
    expect(hb).toBeGreaterThan(0);
    expect(resp).toBeGreaterThan(hb);
    const r = c.trace[resp]!.m;
    expect(`${brief(r)} index=${r.index} ctx=${str(r.entries[0]!.data)}`).toBe("MsgReadIndexResp 1->2 t1 index=2 ctx=f1");
    expect(reads(c, 2)).toEqual(["f1@2"]);
    expect(reads(c, 1)).toEqual([]);
  });

  it("on a fresh leader before its first commit in its term: held until the no-op commits, then answered", () => {
    // Thesis §6.4 step 1: the leader must have committed an entry of its term first.
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    // 2 wins term 2; stop right after it became leader, before its no-op is acknowledged.
    c.node(2).node.campaign();
    c.processReady(2);
    c.deliverQueued();
    c.processAll();
    c.deliverIf((m) => m.type === MessageType.MsgRequestVoteResponse);
    const r2 = c.raft(2);
    expect(r2.state).toBe("Leader");
    expect(r2.raftLog.committed).toBe(2); // the old term's entries; the no-op (3) is not committed
    c.node(2).node.readIndex(text("early"));
    const rd = c.processReady(2)!;
    expect(rd.readStates).toEqual([]);
    expect(rd.messages.filter((m) => m.type === MessageType.MsgHeartbeat)).toEqual([]);
    // The no-op reaches the followers, but their acknowledgements are held back for now.
    c.deliverIf(isMsg(MessageType.MsgAppend, 2));
    c.processAll();
    const acks = c.take(isMsg(MessageType.MsgAppendResponse, undefined, 2));
    expect(acks.length).toBe(2);
    // 3 now knows its leader and forwards a read to it; it is held as well.
    c.node(3).node.readIndex(text("via-3"));
    c.processReady(3);
    c.deliverIf(isMsg(MessageType.MsgReadIndex, 3, 2));
    expect(r2.pendingReadIndexMessages.length).toBe(2);
    c.processAll();
    expect(reads(c, 2)).toEqual([]);
    expect(c.queue.filter((m) => m.type === MessageType.MsgHeartbeat)).toEqual([]);
    for (const m of acks) c.deliverOne(m);
    c.stabilize();
    expect(r2.raftLog.committed).toBe(3);
    expect(r2.pendingReadIndexMessages).toEqual([]);
    expect(reads(c, 2)).toEqual(["early@3"]);
    expect(reads(c, 3)).toEqual(["via-3@3"]);
  });

  it("on a single-node cluster: answered at once, without messages", () => {
    const c = new Cluster({ voters: [1] });
    c.elect(1);
    c.propose(1, "a");
    c.node(1).node.readIndex(text("solo"));
    const rd = c.processReady(1)!;
    expect(rd.readStates.map((rs) => `${str(rs.requestCtx)}@${rs.index}`)).toEqual(["solo@2"]);
    expect(rd.messages).toEqual([]);
    expect(rd.persistedMessages).toEqual([]);
  });

  it("on a node with no leader: dropped with ProposalDropped", () => {
    const c = new Cluster({ config: { preVote: true } });
    expect(c.raft(1).lead).toBe(0);
    expect(raftErrorOf(() => c.node(1).node.readIndex(text("x")))?.code).toBe("ProposalDropped");
    // A pre-candidate and a candidate know no leader either.
    c.isolate(1);
    c.node(1).node.campaign();
    c.stabilize();
    expect(c.raft(1).state).toBe("PreCandidate");
    expect(raftErrorOf(() => c.node(1).node.readIndex(text("x")))?.code).toBe("ProposalDropped");
    const d = new Cluster();
    d.isolate(1);
    d.node(1).node.campaign();
    d.stabilize();
    expect(d.raft(1).state).toBe("Candidate");
    expect(raftErrorOf(() => d.node(1).node.readIndex(text("x")))?.code).toBe("ProposalDropped");
    expect(d.node(1).node.hasReady()).toBe(false);
  });
});
