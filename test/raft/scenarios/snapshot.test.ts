// Scenario tests of snapshots (Raft §7, thesis §5): a leader that has compacted its log
// sends a follower that is behind the compaction point a MsgSnapshot; the follower installs
// it (MemoryStorage.applySnapshot) and continues from the log. The leader's Progress goes
// Snapshot -> Probe when the driver reports the outcome (reportSnapshot), paused until the
// follower answers; a snapshot is only sent to a follower heard from recently. A node
// restarting on a storage that holds a snapshot starts with commit and applied at the
// snapshot index; a snapshot that is not newer than the follower's commit is ignored.

import { describe, expect, it } from "vitest";
import {
  MemoryStorage,
  RawNode,
  SeededRandom,
  type Snapshot,
} from "../../../runtime/raft/index.js";
import { Cluster, MessageType, addLearner, addNode, brief, isMsg, msg, str, text } from "./helpers.js";

const CS = { voters: [1, 2, 3], learners: [] };

/** Elect 1, let 3 miss `n` proposals, then snapshot and compact the leader at its applied index. */
function behindCompaction(c: Cluster, n = 10): number {
  c.elect(1);
  c.isolate(3);
  for (let i = 0; i < n; i++) c.propose(1, `e${i}`);
  const n1 = c.node(1);
  const at = n1.appliedIndex;
  n1.storage.createSnapshot(at, CS, text(`state@${at}`));
  n1.storage.compact(at);
  expect(c.raft(1).raftLog.firstIndex()).toBe(at + 1);
  return at;
}

describe("snapshots", () => {
  it("a follower behind the leader's compaction point catches up through MsgSnapshot", () => {
    const c = new Cluster();
    const at = behindCompaction(c);
    expect(at).toBe(11);
    c.heal();
    c.clearTrace();
    c.tick(1, 1); // the heartbeat answer reveals the follower is behind
    const snaps = c.sent(isMsg(MessageType.MsgSnapshot, 1, 3));
    expect(snaps.length).toBe(1);
    expect(snaps[0]!.snapshot!.metadata).toEqual({ index: 11, term: 1, confState: CS });
    const n3 = c.node(3);
    expect(n3.snapshots.map((s) => `${s.metadata.index}/${s.metadata.term}:${str(s.data)}`)).toEqual(["11/1:state@11"]);
    expect(n3.storage.firstIndex()).toBe(12);
    expect(n3.storage.initialState().hardState.commit).toBe(11);
    expect(c.raft(3).raftLog.committed).toBe(11);
    expect(c.raft(3).raftLog.applied).toBe(11);
    // The leader resumes replicating from the log.
    const pr3 = c.raft(1).trk.progress.get(3)!;
    expect(pr3.state).toBe("Replicate");
    expect(pr3.match).toBe(11);
    c.propose(1, "after");
    expect(c.appliedData(3)).toEqual(["after"]);
    expect(c.raft(3).raftLog.lastIndex()).toBe(c.raft(1).raftLog.lastIndex());
    expect(c.sent(isMsg(MessageType.MsgSnapshot)).length).toBe(1);
  });

  it("a snapshot carries the configuration: the follower adopts the membership it missed", () => {
    const c = new Cluster();
    c.elect(1);
    c.isolate(3);
    c.node(1).node.proposeConfChange(addLearner(4));
    c.stabilize();
    c.propose(1, "a");
    const n1 = c.node(1);
    const cs = n1.storage.initialState().confState;
    expect(cs).toEqual({ voters: [1, 2, 3], learners: [4] });
    n1.storage.createSnapshot(n1.appliedIndex, cs, text("s"));
    n1.storage.compact(n1.appliedIndex);
    c.heal();
    c.tick(1, 1);
    expect(c.node(3).snapshots.length).toBe(1);
    expect(c.raft(3).trk.confState()).toEqual({ voters: [1, 2, 3], learners: [4] });
    expect(c.node(3).storage.initialState().confState).toEqual({ voters: [1, 2, 3], learners: [4] });
  });

  it("a new voter that starts with an empty storage joins through a snapshot", () => {
    const c = new Cluster();
    c.elect(1);
    c.propose(1, "a");
    c.node(1).node.proposeConfChange(addNode(4));
    c.stabilize();
    const n1 = c.node(1);
    const cs = n1.storage.initialState().confState;
    n1.storage.createSnapshot(n1.appliedIndex, cs, text("s"));
    n1.storage.compact(n1.appliedIndex);
    // No configuration at all: it learns it from the snapshot.
    c.addNode(4, new MemoryStorage());
    expect(c.raft(4).trk.voterIds()).toEqual([]);
    c.tick(1, 2);
    expect(c.node(4).snapshots.map((s) => s.metadata.index)).toEqual([n1.appliedIndex]);
    expect(c.raft(4).trk.voterIds()).toEqual([1, 2, 3, 4]);
    c.propose(1, "b");
    expect(c.appliedData(4)).toEqual(["b"]);
    // It is now a full voter: it can lead.
    c.elect(4);
    expect(c.leaders()).toEqual([4]);
  });

  it("reportSnapshot failure: Snapshot -> Probe from match, paused until the next heartbeat answer, then a new snapshot", () => {
    const c = new Cluster();
    behindCompaction(c);
    c.heal();
    c.dropIf = isMsg(MessageType.MsgSnapshot);
    c.tick(1, 1);
    const pr = () => c.raft(1).trk.progress.get(3)!;
    expect(pr().state).toBe("Snapshot");
    expect(pr().pendingSnapshot).toBe(11);
    expect(pr().isPaused()).toBe(true);
    c.dropIf = undefined;
    c.node(1).node.reportSnapshot(3, "failure");
    expect(pr().state).toBe("Probe");
    expect(pr().pendingSnapshot).toBe(0);
    expect(pr().next).toBe(pr().match + 1);
    expect(pr().isPaused()).toBe(true);
    // Paused: a proposal sends nothing to 3.
    c.clearTrace();
    c.propose(1, "x");
    expect(c.sent((m) => m.from === 1 && m.to === 3)).toEqual([]);
    // The next heartbeat answer unpauses; the log still lacks 3's entries: a new snapshot.
    c.tick(1, 1);
    expect(c.sent(isMsg(MessageType.MsgSnapshot, 1, 3)).length).toBe(1);
    expect(c.node(3).snapshots.length).toBe(1);
    expect(c.appliedData(3)).toEqual(["x"]);
    expect(pr().state).toBe("Replicate");
  });

  it("reportSnapshot finish: Snapshot -> Probe after the snapshot, paused until the follower answers", () => {
    const c = new Cluster();
    behindCompaction(c);
    c.heal();
    c.dropIf = isMsg(MessageType.MsgSnapshot);
    c.tick(1, 1);
    c.dropIf = undefined;
    const held = c.sent(isMsg(MessageType.MsgSnapshot, 1, 3));
    expect(held.length).toBe(1);
    const pr = () => c.raft(1).trk.progress.get(3)!;
    c.node(1).node.reportSnapshot(3, "finish");
    expect(pr().state).toBe("Probe");
    expect(pr().next).toBe(12);
    expect(pr().isPaused()).toBe(true);
    c.clearTrace();
    c.node(1).node.propose(text("y"));
    c.stabilize();
    expect(c.sent((m) => m.from === 1 && m.to === 3)).toEqual([]);
    // The snapshot arrives late; the follower's answer resumes replication.
    c.deliverOne(held[0]!);
    c.stabilize();
    expect(c.sent((m) => m.from === 3 && m.to === 1).map(brief)).toEqual([
      "MsgAppendResponse 3->1 t1",
      "MsgAppendResponse 3->1 t1",
    ]);
    expect(pr().state).toBe("Replicate");
    expect(c.appliedData(3)).toEqual(["y"]);
  });

  it("a follower that refuses a snapshot is not sent another at once (regression: message storm)", () => {
    // Found by a seeded chaos run: a removed-then-re-added node behind the compaction point
    // was offered a snapshot whose ConfState predates its re-addition, refused it (it is
    // not in that configuration) and answered with its unchanged commit index. With the
    // transport reporting "finish", the leader re-sent the snapshot on every answer, forever
    // within one tick. Now the paused probe waits for the next heartbeat round.
    const c = new Cluster();
    c.elect(1);
    c.isolate(3);
    for (let i = 0; i < 3; i++) c.propose(1, `e${i}`);
    const n1 = c.node(1);
    n1.storage.createSnapshot(n1.appliedIndex, { voters: [1, 2], learners: [] }, text("without 3"));
    n1.storage.compact(n1.appliedIndex);
    c.heal();
    c.autoReportSnapshots = true;
    c.clearTrace();
    c.tick(1, 1);
    expect(c.sent(isMsg(MessageType.MsgSnapshot, 1, 3)).length).toBe(1);
    expect(c.node(3).snapshots).toEqual([]);
    expect(c.raft(1).trk.progress.get(3)!.state).toBe("Probe");
    c.tick(1, 1);
    expect(c.sent(isMsg(MessageType.MsgSnapshot, 1, 3)).length).toBe(2);
    // A newer snapshot that includes 3 ends it.
    c.propose(1, "more");
    n1.storage.createSnapshot(n1.appliedIndex, CS, text("with 3"));
    n1.storage.compact(n1.appliedIndex);
    c.tick(1, 2);
    expect(c.node(3).snapshots.map((s) => str(s.data))).toEqual(["with 3"]);
    expect(c.raft(1).trk.progress.get(3)!.state).toBe("Replicate");
  });

  it("reportSnapshot is ignored when the follower is not in Snapshot state", () => {
    const c = new Cluster();
    c.elect(1);
    const pr = c.raft(1).trk.progress.get(2)!;
    expect(pr.state).toBe("Replicate");
    c.node(1).node.reportSnapshot(2, "failure");
    expect(pr.state).toBe("Replicate");
    expect(pr.isPaused()).toBe(false);
  });

  it("no snapshot is sent to a follower that is not recently active", () => {
    // etcd's rule: a snapshot is expensive, so it goes only to a peer heard from since the
    // last check-quorum round.
    const c = new Cluster({ config: { checkQuorum: true } });
    behindCompaction(c, 3);
    c.tickNodes([1, 2], 10); // a check-quorum round clears 3's recentActive
    const pr3 = c.raft(1).trk.progress.get(3)!;
    expect(pr3.recentActive).toBe(false);
    c.node(1).node.reportUnreachable(3);
    expect(pr3.state).toBe("Probe");
    c.clearTrace();
    c.propose(1, "x");
    c.tickNodes([1, 2], 5);
    expect(c.sent(isMsg(MessageType.MsgSnapshot))).toEqual([]);
    expect(pr3.state).toBe("Probe");
    // Once 3 answers a heartbeat it is active again and gets its snapshot.
    c.heal();
    c.tick(1, 1);
    expect(c.sent(isMsg(MessageType.MsgSnapshot, 1, 3)).length).toBe(1);
    expect(c.appliedData(3)).toEqual(["x"]);
  });

  describe("restoring at start-up", () => {
    const snap: Snapshot = { data: text("sm@10"), metadata: { index: 10, term: 3, confState: CS } };
    const storageWithSnapshot = () => {
      const s = new MemoryStorage();
      s.applySnapshot(snap);
      return s;
    };

    it("a node whose storage holds a snapshot starts with commit and applied at the snapshot index", () => {
      const node = new RawNode({ id: 1, electionTick: 10, heartbeatTick: 1, rand: new SeededRandom(1) }, storageWithSnapshot());
      const r = node.raft;
      expect(r.raftLog.committed).toBe(10);
      expect(r.raftLog.applied).toBe(10);
      expect(r.term).toBe(3);
      expect(r.raftLog.firstIndex()).toBe(11);
      expect(r.raftLog.lastIndex()).toBe(10);
      expect(r.raftLog.lastTerm()).toBe(3);
      expect(r.trk.voterIds()).toEqual([1, 2, 3]);
      // Nothing to re-apply: everything up to the snapshot is in the state machine.
      expect(node.hasReady()).toBe(false);
      const st = node.status();
      expect(st.applied).toBe(10);
      expect(st.hardState).toEqual({ term: 3, vote: 0, commit: 10 });
    });

    it("a cluster restored from a snapshot elects a leader and continues after it", () => {
      const c = new Cluster({ storageFor: () => storageWithSnapshot() });
      c.elect(2);
      expect(c.raft(2).term).toBe(4);
      c.propose(2, "next");
      for (const id of c.ids()) {
        expect(c.node(id).applied.map((e) => e.index)).toEqual([11, 12]);
        expect(c.appliedData(id)).toEqual(["next"]);
      }
    });

    it("a follower that installed a snapshot restarts at the snapshot index", () => {
      const c = new Cluster();
      behindCompaction(c);
      c.heal();
      c.tick(1, 1);
      expect(c.node(3).snapshots.length).toBe(1);
      // Restart without telling it its applied index: the snapshot is the floor.
      c.restart(3, { applied: 0 });
      const r3 = c.raft(3);
      expect(r3.raftLog.committed).toBe(11);
      expect(r3.raftLog.applied).toBe(11);
      expect(r3.term).toBe(1);
      expect(c.node(3).node.hasReady()).toBe(false);
      c.propose(1, "z");
      expect(c.appliedData(3)).toEqual(["z"]);
    });
  });

  describe("stale snapshots", () => {
    it("a snapshot not newer than the follower's commit is ignored and answered with the commit index", () => {
      const c = new Cluster();
      c.elect(1);
      for (const s of ["a", "b", "c"]) c.propose(1, s);
      const r2 = c.raft(2);
      expect(r2.raftLog.committed).toBe(4);
      const old = c.node(1).storage.createSnapshot(2, CS, text("old"));
      const logBefore = c.logOf(2);
      c.deliverOne(msg({ type: MessageType.MsgSnapshot, from: 1, to: 2, term: 1, snapshot: old }));
      const rd = c.processReady(2)!;
      expect(rd.snapshot).toBeUndefined();
      expect(rd.persistedMessages.map((m) => `${brief(m)} index=${m.index}`)).toEqual(["MsgAppendResponse 2->1 t1 index=4"]);
      expect(c.logOf(2)).toEqual(logBefore);
      expect(r2.raftLog.firstIndex()).toBe(1);
    });

    it("a snapshot whose last entry the follower already has only moves its commit forward", () => {
      const c = new Cluster();
      c.elect(1);
      // 3 gets the entries but not the commit index that follows them.
      c.dropIf = (m) => m.type === MessageType.MsgAppend && m.to === 3 && m.entries.length === 0;
      c.propose(1, "a");
      c.propose(1, "b");
      c.dropIf = undefined;
      const r3 = c.raft(3);
      expect(r3.raftLog.lastIndex()).toBe(3);
      expect(r3.raftLog.committed).toBe(2);
      const s = c.node(1).storage.createSnapshot(3, CS, text("s3"));
      c.deliverOne(msg({ type: MessageType.MsgSnapshot, from: 1, to: 3, term: 1, snapshot: s }));
      const rd = c.processReady(3)!;
      expect(rd.snapshot).toBeUndefined();
      expect(r3.raftLog.committed).toBe(3);
      expect(rd.committedEntries.map((e) => str(e.data))).toEqual(["b"]);
      expect(rd.persistedMessages.map((m) => `${brief(m)} index=${m.index}`)).toEqual(["MsgAppendResponse 3->1 t1 index=3"]);
    });
  });
});
