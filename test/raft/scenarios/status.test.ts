// Scenario tests of RawNode.status(): the monitoring snapshot of a node. On a leader it lists
// the progress of every member, itself included, sorted by id whatever order members joined
// in (STYLE 7.3: output must not depend on history); on followers and candidates the
// progress list is empty. The snapshot is a copy: changing it does not change the node.

import { describe, expect, it } from "vitest";
import { Cluster, addLearner } from "./helpers.js";

describe("status()", () => {
  it("on the leader: every member's progress, itself included, sorted by id", () => {
    const c = new Cluster({ voters: [9, 2, 5] });
    c.elect(5);
    c.propose(5, "a");
    // 4 joins last (it is inserted last in the leader's progress map) and is not running.
    c.node(5).node.proposeConfChange(addLearner(4));
    c.stabilize();
    const st = c.node(5).node.status();
    expect(st.id).toBe(5);
    expect(st.softState).toEqual({ leaderId: 5, raftState: "Leader" });
    expect(st.hardState).toEqual({ term: 1, vote: 5, commit: 3 });
    expect(st.voters).toEqual([2, 5, 9]);
    expect(st.learners).toEqual([4]);
    expect(st.applied).toBe(3);
    expect(st.firstIndex).toBe(1);
    expect(st.lastIndex).toBe(3);
    expect(st.leadTransferee).toBe(0);
    const replicating = { state: "Replicate", isLearner: false, recentActive: true, paused: false, pendingSnapshot: 0, inflightMessages: 0, inflightBytes: 0 };
    expect(st.progress).toEqual([
      { id: 2, match: 3, next: 4, ...replicating },
      // Never answered: probing from the leader's last index when it was added, one message out.
      { id: 4, match: 0, next: 3, state: "Probe", isLearner: true, recentActive: true, paused: true, pendingSnapshot: 0, inflightMessages: 0, inflightBytes: 0 },
      { id: 5, match: 3, next: 4, ...replicating },
      { id: 9, match: 3, next: 4, ...replicating },
    ]);
  });

  it("shows messages in flight and a transfer under way", () => {
    const c = new Cluster();
    c.elect(1);
    c.dropIf = (m) => m.from === 3 && m.to === 1;
    c.propose(1, "abc");
    c.propose(1, "de");
    c.node(1).node.transferLeader(3);
    const st = c.node(1).node.status();
    expect(st.leadTransferee).toBe(3);
    const p3 = st.progress.find((p) => p.id === 3)!;
    expect(p3).toMatchObject({ match: 1, next: 4, state: "Replicate", inflightMessages: 2, inflightBytes: 5 });
  });

  it("on followers and candidates: no progress", () => {
    const c = new Cluster();
    c.elect(1);
    for (const id of [2, 3]) {
      const st = c.node(id).node.status();
      expect(st.softState).toEqual({ leaderId: 1, raftState: "Follower" });
      expect(st.progress).toEqual([]);
      expect(st.voters).toEqual([1, 2, 3]);
    }
    c.isolate(2);
    c.node(2).node.campaign();
    c.stabilize();
    const st = c.node(2).node.status();
    expect(st.softState).toEqual({ leaderId: 0, raftState: "Candidate" });
    expect(st.progress).toEqual([]);
  });

  it("a leader that steps down stops reporting progress", () => {
    const c = new Cluster();
    c.elect(1);
    expect(c.node(1).node.status().progress.length).toBe(3);
    c.elect(2);
    expect(c.node(1).node.status().progress).toEqual([]);
    expect(c.node(2).node.status().progress.map((p) => p.id)).toEqual([1, 2, 3]);
  });

  it("is a copy of the node's state", () => {
    const c = new Cluster();
    c.elect(1);
    const st = c.node(1).node.status();
    st.voters.push(7);
    st.hardState.commit = 99;
    st.progress[1]!.match = 42;
    expect(c.raft(1).trk.voterIds()).toEqual([1, 2, 3]);
    expect(c.raft(1).raftLog.committed).toBe(1);
    expect(c.raft(1).trk.progress.get(2)!.match).toBe(1);
    c.propose(1, "after");
    expect(c.node(1).node.status().hardState.commit).toBe(2);
  });
});
