// Scenario tests of single-step membership changes (Raft thesis §4.1 and §4.2): adding a
// voter (it catches up and then counts for the quorum), removing a voter (the quorum
// shrinks and entries pending on the old quorum commit on the new one), removing the leader
// (it steps down once the change is applied; the others elect a new leader), one change at
// a time (a second is refused while one is pending; inside a forwarded batch it is replaced
// by a no-op), changes that would leave no voter are refused with InvalidConfig, and a node
// with committed but unapplied conf changes does not campaign (its view of the
// configuration may be stale).

import { describe, expect, it } from "vitest";
import {
  EMPTY_BYTES,
  EntryType,
  MemoryStorage,
  encodeConfChange,
  newMessage,
} from "../../../runtime/raft/index.js";
import {
  Cluster,
  MessageType,
  addLearner,
  addNode,
  isMsg,
  raftErrorOf,
  removeNode,
  str,
  text,
} from "./helpers.js";

describe("membership changes", () => {
  it("an added voter catches up and then counts for the quorum", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    c.node(1).node.proposeConfChange(addNode(4));
    c.stabilize();
    for (const id of [1, 2, 3]) expect(c.raft(id).trk.voterIds()).toEqual([1, 2, 3, 4]);
    // The new node starts empty, bootstrapped with the new configuration.
    c.addNode(4, MemoryStorage.withPeers([1, 2, 3, 4]));
    c.tick(1, 2);
    expect(c.appliedData(4)).toEqual(["a"]);
    expect(c.logOf(4)).toEqual(c.logOf(1));
    expect(c.raft(1).trk.progress.get(4)!.state).toBe("Replicate");
    // With 2 cut off, 1 + 3 + 4 are a majority of 4 only because 4 counts.
    c.cut(1, 2);
    const before = c.raft(1).raftLog.committed;
    c.propose(1, "b");
    expect(c.raft(1).raftLog.committed).toBe(before + 1);
    // With 3 cut off as well, 1 + 4 are 2 of 4: the quorum grew to 3.
    c.cut(1, 3);
    c.propose(1, "c");
    expect(c.raft(1).raftLog.committed).toBe(before + 1);
    c.heal();
    c.tick(1, 1);
    for (const id of c.ids()) expect(c.appliedData(id)).toEqual(["a", "b", "c"]);
  });

  it("removing a voter shrinks the quorum: an entry pending on the old quorum commits on the new one", () => {
    const c = new Cluster({ voters: [1, 2] });
    c.elect(1);
    c.node(1).node.proposeConfChange(removeNode(2));
    c.processReady(1);
    const ccIndex = c.raft(1).raftLog.lastIndex();
    c.deliverQueued();
    c.processReady(2);
    const ack = c.take(isMsg(MessageType.MsgAppendResponse, 2, 1));
    expect(ack.map((m) => m.index)).toEqual([ccIndex]);
    // While the change is pending, another proposal that 2 will never acknowledge.
    c.node(1).node.propose(text("hello"));
    c.processReady(1);
    c.queue = [];
    c.cut(1, 2);
    expect(c.raft(1).raftLog.committed).toBe(ccIndex - 1);
    // 2's acknowledgement commits the change, not "hello" (1 of 2).
    c.node(1).node.step(ack[0]!);
    expect(c.raft(1).raftLog.committed).toBe(ccIndex);
    // Applying it leaves 1 alone: "hello" is now acknowledged by a majority of {1}.
    c.processReady(1);
    expect(c.raft(1).trk.voterIds()).toEqual([1]);
    expect(c.raft(1).raftLog.committed).toBe(ccIndex + 1);
    c.processAll();
    expect(c.appliedData(1)).toEqual(["hello"]);
  });

  it("a removed voter gets no more messages and the rest keep committing", () => {
    const c = new Cluster();
    c.elect(1);
    c.node(1).node.proposeConfChange(removeNode(3));
    c.stabilize();
    for (const id of [1, 2]) expect(c.raft(id).trk.voterIds()).toEqual([1, 2]);
    c.clearTrace();
    c.propose(1, "a");
    c.tickAll(3);
    expect(c.sent((m) => m.to === 3)).toEqual([]);
    expect(c.appliedData(2)).toEqual(["a"]);
    expect(c.node(1).storage.initialState().confState).toEqual({ voters: [1, 2], learners: [] });
  });

  it("removing the leader: it steps down once applied; the others elect a new leader and continue", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    c.node(1).node.proposeConfChange(removeNode(1));
    c.stabilize();
    const r1 = c.raft(1);
    expect(r1.state).toBe("Follower");
    expect(r1.lead).toBe(0);
    expect(r1.trk.voterIds()).toEqual([2, 3]);
    for (const id of [2, 3]) expect(c.raft(id).trk.voterIds()).toEqual([2, 3]);
    expect(raftErrorOf(() => c.node(1).node.propose(text("x")))?.code).toBe("ProposalDropped");
    const leader = c.tickUntilOneLeader();
    expect([2, 3]).toContain(leader);
    expect(c.raft(leader).term).toBe(2);
    c.propose(leader, "b");
    for (const id of [2, 3]) expect(c.appliedData(id)).toEqual(["a", "b"]);
    // The removed node never campaigns again.
    c.tickAll(50);
    expect(r1.state).toBe("Follower");
    expect(r1.term).toBe(1);
    expect(c.leaders()).toEqual([leader]);
  });

  it("a second conf change while one is pending is refused; it is taken once the first is applied", () => {
    const c = new Cluster();
    c.elect(1);
    const n1 = c.node(1).node;
    n1.proposeConfChange(addLearner(4));
    expect(raftErrorOf(() => n1.proposeConfChange(addLearner(5)))?.code).toBe("ProposalDropped");
    c.stabilize();
    expect(c.raft(1).trk.learnerIds()).toEqual([4]);
    n1.proposeConfChange(addLearner(5));
    c.stabilize();
    expect(c.raft(1).trk.learnerIds()).toEqual([4, 5]);
    expect(c.raft(2).trk.learnerIds()).toEqual([4, 5]);
  });

  it("a conf change in a batch forwarded by a follower while another is pending becomes a no-op", () => {
    const c = new Cluster();
    c.elect(1);
    c.node(1).node.proposeConfChange(addLearner(4));
    const first = c.raft(1).raftLog.lastIndex();
    const cc = { type: EntryType.EntryConfChange, term: 0, index: 0, data: encodeConfChange(addLearner(5)), context: text("ctx") };
    const normal = (s: string) => ({ type: EntryType.EntryNormal, term: 0, index: 0, data: text(s), context: EMPTY_BYTES });
    c.node(2).node.step(newMessage({ type: MessageType.MsgPropose, from: 2, entries: [normal("x"), cc, normal("y")] }));
    c.processReady(2);
    expect(c.queue.map((m) => `${m.type === MessageType.MsgPropose} ${m.from}->${m.to} ${m.entries.length}`)).toEqual([
      "true 2->1 3",
    ]);
    c.deliverQueued();
    const log = c.raft(1).raftLog.slice(first + 1, first + 4);
    expect(log.map((e) => `${e.type}:${str(e.data)}:${str(e.context)}`)).toEqual(["0:x:", "0::ctx", "0:y:"]);
    c.stabilize();
    expect(c.stepErrors).toEqual([]);
    for (const id of c.ids()) {
      expect(c.raft(id).trk.learnerIds()).toEqual([4]);
      expect(c.appliedData(id)).toEqual(["x", "y"]);
    }
  });

  it("a lone conf change forwarded by a follower while another is pending becomes a no-op as well", () => {
    const c = new Cluster();
    c.elect(1);
    c.node(1).node.proposeConfChange(addLearner(4));
    c.node(2).node.proposeConfChange(addLearner(5)); // forwarded; the follower cannot judge
    c.stabilize();
    expect(c.stepErrors).toEqual([]);
    expect(c.raft(1).trk.learnerIds()).toEqual([4]);
    const last = c.raft(1).raftLog.allEntries().at(-1)!;
    expect(last.type).toBe(EntryType.EntryNormal);
    expect(last.data.length).toBe(0);
  });

  describe("changes that would leave no voter are refused with InvalidConfig", () => {
    it("a single voter removing itself: the committed change is refused when applied, nothing changes", () => {
      const c = new Cluster({ voters: [1] });
      c.elect(1);
      c.node(1).node.proposeConfChange(removeNode(1));
      c.stabilize();
      expect(c.node(1).confErrors.map((e) => e.code)).toEqual(["InvalidConfig"]);
      expect(c.raft(1).trk.voterIds()).toEqual([1]);
      expect(c.raft(1).state).toBe("Leader");
      c.propose(1, "still works");
      expect(c.appliedData(1)).toEqual(["still works"]);
      // The next change is accepted once the refused one is applied.
      c.node(1).node.proposeConfChange(addLearner(2));
      c.stabilize();
      expect(c.raft(1).trk.learnerIds()).toEqual([2]);
    });

    it("applyConfChange refuses it directly, as it refuses demoting a voter and node id 0", () => {
      const c = new Cluster({ voters: [1], learners: [2] });
      const n1 = c.node(1).node;
      expect(raftErrorOf(() => n1.applyConfChange(removeNode(1)))?.code).toBe("InvalidConfig");
      expect(raftErrorOf(() => n1.applyConfChange(addLearner(1)))?.code).toBe("InvalidConfig");
      expect(raftErrorOf(() => n1.applyConfChange(addNode(0)))?.code).toBe("InvalidConfig");
      expect(c.raft(1).trk.confState()).toEqual({ voters: [1], learners: [2] });
      // Removing the last voter is refused even when a learner remains.
      expect(n1.applyConfChange(removeNode(2))).toEqual({ voters: [1], learners: [] });
    });
  });

  it("a node with committed but unapplied conf changes does not campaign", () => {
    // Thesis §4.1: a server uses the latest configuration in its log; until it has applied
    // a committed change, its view of who votes may be stale.
    const c = new Cluster();
    c.elect(1);
    c.node(1).node.proposeConfChange(addLearner(4));
    c.processReady(1);
    c.deliverQueued(); // the entry reaches 2 and 3
    c.processReady(2);
    c.processReady(3);
    c.deliverQueued(); // their acks commit it
    c.processReady(1); // ... and the new commit index goes out
    const ccIndex = c.raft(1).raftLog.committed;
    c.deliverIf(isMsg(MessageType.MsgAppend, 1, 2));
    const r2 = c.raft(2);
    expect(r2.raftLog.committed).toBe(ccIndex);
    expect(r2.raftLog.applied).toBeLessThan(ccIndex);
    c.node(2).node.campaign();
    for (let i = 0; i < 50; i++) c.node(2).node.tick();
    expect(r2.state).toBe("Follower");
    expect(r2.term).toBe(1);
    expect(r2.msgs.filter((m) => m.type === MessageType.MsgRequestVote)).toEqual([]);
    // Once applied, it may.
    c.processReady(2);
    expect(r2.raftLog.applied).toBe(ccIndex);
    c.node(2).node.campaign();
    expect(r2.state).toBe("Candidate");
    expect(r2.term).toBe(2);
  });
});
