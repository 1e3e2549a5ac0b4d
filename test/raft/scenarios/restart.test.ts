// Scenario tests of crash and restart: a node rebuilt from its MemoryStorage (the hard
// state and entries its driver persisted) keeps its term and vote, so it cannot vote twice
// in a term (Raft §5.2, Figure 2 "persistent state on all servers"); its log and commit
// index survive; what it had not persisted is gone and gets re-sent by the leader. A
// cluster whose leader (or every node) restarts elects again and continues with its log.

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, brief, isMsg } from "./helpers.js";

describe("restart", () => {
  it("a node keeps its term and vote across a crash and cannot vote twice in a term", () => {
    const c = new Cluster();
    c.node(1).node.campaign();
    c.processReady(1);
    c.deliverIf(isMsg(MessageType.MsgRequestVote, 1, 2));
    const rd = c.processReady(2)!;
    // The grant promises durability: it leaves only after the vote is persisted.
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(rd.messages).toEqual([]);
    expect(rd.persistedMessages.map(brief)).toEqual(["MsgRequestVoteResponse 2->1 t1"]);
    expect(c.node(2).storage.initialState().hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    c.restart(2);
    const r2 = c.raft(2);
    expect(r2.term).toBe(1);
    expect(r2.vote).toBe(1);
    expect(r2.state).toBe("Follower");
    // 3 campaigns for the same term 1: the restarted 2 must refuse (§5.2).
    c.node(3).node.campaign();
    c.processReady(3);
    c.deliverIf(isMsg(MessageType.MsgRequestVote, 3, 2));
    const rd2 = c.processReady(2)!;
    expect(rd2.persistedMessages.map(brief)).toEqual(["MsgRequestVoteResponse 2->3 t1 rej"]);
    expect(r2.vote).toBe(1);
    // 1 still wins term 1 with the vote it got before the crash.
    c.stabilize();
    expect(c.leaders()).toEqual([1]);
    expect(c.raft(1).term).toBe(1);
  });

  it("a candidate keeps its self-vote across a crash", () => {
    const c = new Cluster();
    c.isolate(1);
    c.node(1).node.campaign();
    c.stabilize();
    c.restart(1);
    const r1 = c.raft(1);
    expect(r1.term).toBe(1);
    expect(r1.vote).toBe(1);
    c.heal();
    c.node(2).node.campaign();
    c.stabilize();
    expect(c.sent((m) => m.type === MessageType.MsgRequestVoteResponse && m.from === 1 && m.to === 2).map(brief)).toEqual([
      "MsgRequestVoteResponse 1->2 t1 rej",
    ]);
    expect(c.leaders()).toEqual([2]); // 3's vote is enough
  });

  it("a restarted leader comes back as a follower with its log; the cluster elects again and continues", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    c.propose(1, "b");
    const logBefore = c.logOf(1);
    c.restart(1);
    const r1 = c.raft(1);
    expect(r1.state).toBe("Follower");
    expect(r1.term).toBe(1);
    expect(r1.vote).toBe(1);
    expect(r1.lead).toBe(0);
    expect(c.logOf(1)).toEqual(logBefore);
    expect(r1.raftLog.committed).toBe(3);
    expect(r1.raftLog.applied).toBe(3);
    expect(c.node(1).node.hasReady()).toBe(false);
    const leader = c.tickUntilOneLeader();
    expect(c.raft(leader).term).toBe(2);
    c.propose(leader, "c");
    for (const id of c.ids()) expect(c.appliedData(id)).toEqual(["a", "b", "c"]);
  });

  it("without an applied index, a restarted node re-applies its committed entries", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    c.restart(2, { applied: 0 });
    const rd = c.node(2).node.ready();
    expect(rd.committedEntries.map((e) => e.index)).toEqual([1, 2]);
    expect(rd.hardState).toBeUndefined(); // nothing new to persist
    c.node(2).node.advance(rd);
  });

  it("every node restarting at once loses nothing committed", () => {
    const c = new Cluster({ voters: [1, 2, 3, 4, 5] });
    c.elect(3);
    for (const s of ["a", "b", "c"]) c.propose(3, s);
    for (const id of c.ids()) c.restart(id);
    expect(c.leaders()).toEqual([]);
    const leader = c.tickUntilOneLeader();
    c.propose(leader, "d");
    for (const id of c.ids()) {
      expect(c.appliedData(id)).toEqual(["a", "b", "c", "d"]);
      expect(c.raft(id).term).toBe(c.raft(leader).term);
    }
  });

  it("entries a follower had not persisted are lost in its crash and re-sent by the leader", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    c.node(1).node.propose(new TextEncoder().encode("b"));
    c.processReady(1);
    c.deliverIf(isMsg(MessageType.MsgAppend, 1, 3));
    // 3 has "b" in memory, not on disk: it crashes before handling its Ready.
    expect(c.raft(3).raftLog.lastIndex()).toBe(3);
    expect(c.node(3).storage.lastIndex()).toBe(2);
    c.restart(3);
    expect(c.raft(3).raftLog.lastIndex()).toBe(2);
    c.queue = c.queue.filter((m) => m.to !== 3 && m.from !== 3);
    c.stabilize(); // 2 acknowledges; "b" commits without 3
    expect(c.appliedData(1)).toEqual(["a", "b"]);
    c.tickAll(3);
    expect(c.appliedData(3)).toEqual(["a", "b"]);
    expect(c.logOf(3)).toEqual(c.logOf(1));
  });
});
