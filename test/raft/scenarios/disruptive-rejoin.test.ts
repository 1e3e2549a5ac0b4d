// Scenario tests of nodes that come back from a partition with a different term, with
// check-quorum on and pre-vote off (the combination in which a higher term can still appear).
//
// With check-quorum, followers in lease ignore the higher-term vote requests of a rejoining
// node (thesis §4.2.3), so the usual way of learning a higher term (Raft §5.1) is blocked.
// To avoid a stuck candidate or a stale leader that never learns the newer term, a node that
// receives a MsgAppend or MsgHeartbeat of a lower term answers with a MsgAppendResponse
// carrying its own term (as etcd-io/raft does whenever check-quorum or pre-vote is on), and
// the stale sender steps down. The tests check that rule, the stale-leader and stuck-candidate
// scenarios it serves, and that the cluster converges to one leader with one log afterwards.

import { describe, expect, it } from "vitest";
import { Cluster, MessageType, brief, isMsg, msg, text } from "./helpers.js";

/** Every node agrees on the applied data; returns it. */
function converged(c: Cluster): string[] {
  const first = c.appliedData(c.ids()[0]!);
  for (const id of c.ids()) expect(c.appliedData(id)).toEqual(first);
  return first;
}

describe("disruptive rejoining node (check-quorum, no pre-vote)", () => {
  describe("a MsgAppend/MsgHeartbeat of a lower term", () => {
    // Node 2 is at term 3 (it heard a leader 1 of term 3); node 3 still believes it leads
    // term 2 and sends it an append and a heartbeat.
    const cases = [
      { name: "check-quorum", config: { checkQuorum: true }, answers: true },
      { name: "pre-vote", config: { preVote: true }, answers: true },
      { name: "neither", config: {}, answers: false },
    ];
    for (const tc of cases) {
      it(`is ${tc.answers ? "answered with the newer term" : "ignored"} with ${tc.name}`, () => {
        const c = new Cluster({ config: tc.config });
        c.deliverOne(msg({ type: MessageType.MsgHeartbeat, from: 1, to: 2, term: 3 }));
        c.processAll();
        c.queue = [];
        expect(c.raft(2).term).toBe(3);
        c.deliverOne(msg({ type: MessageType.MsgAppend, from: 3, to: 2, term: 2, index: 0, logTerm: 0 }));
        c.deliverOne(msg({ type: MessageType.MsgHeartbeat, from: 3, to: 2, term: 2 }));
        c.processAll();
        expect(c.queue.map(brief)).toEqual(
          tc.answers ? ["MsgAppendResponse 2->3 t3", "MsgAppendResponse 2->3 t3"] : [],
        );
        // Either way the receiver keeps its term and leader.
        expect(c.raft(2).term).toBe(3);
        expect(c.raft(2).lead).toBe(1);
      });
    }
  });

  it("a stuck candidate with a higher term makes the leader step down through its answer, then the cluster converges", () => {
    // Reference: thesis §4.2.3 (lease) + §5.1 (higher term wins). The isolated node 3 keeps
    // campaigning; its vote requests are ignored on rejoin, but its answer to the leader's
    // heartbeat carries its term.
    const c = new Cluster({ config: { checkQuorum: true } });
    c.elect(1);
    c.isolate(3);
    c.propose(1, "a"); // 3 misses it: it cannot win later
    c.tick(3, 50);
    const t3 = c.raft(3).term;
    expect(c.raft(3).state).toBe("Candidate");
    expect(t3).toBeGreaterThan(3);
    c.heal();
    c.clearTrace();
    c.node(1).node.tick(); // heartbeat
    c.processReady(1);
    c.deliverIf(isMsg(MessageType.MsgHeartbeat, 1, 3));
    c.processAll();
    const answer = c.take(isMsg(MessageType.MsgAppendResponse, 3, 1));
    expect(answer.map(brief)).toEqual([`MsgAppendResponse 3->1 t${t3}`]);
    c.deliverOne(answer[0]!);
    const r1 = c.raft(1);
    expect(r1.state).toBe("Follower");
    expect(r1.term).toBe(t3);
    expect(r1.lead).toBe(0);
    c.stabilize();
    // A new election at a higher term; 3's log is behind, so 1 or 2 wins it.
    const leader = c.tickUntilOneLeader();
    expect([1, 2]).toContain(leader);
    expect(c.raft(leader).term).toBeGreaterThan(t3);
    c.propose(leader, "b");
    c.tickAll(3);
    expect(c.leaders()).toEqual([leader]);
    for (const id of c.ids()) expect(c.raft(id).term).toBe(c.raft(leader).term);
    expect(converged(c)).toEqual(["a", "b"]);
    expect(c.logOf(3)).toEqual(c.logOf(leader));
  });

  it("a follower that timed out (no partition) disrupts the leader once, then one leader remains", () => {
    // The case pre-vote exists for (thesis §9.6): with check-quorum alone, a follower whose
    // timer fires campaigns at a higher term; the leader ignores its vote request (lease)
    // but learns the term from the answer to its next heartbeat, and steps down.
    const c = new Cluster({ config: { checkQuorum: true } });
    c.elect(1);
    c.propose(1, "a");
    const r3 = c.raft(3);
    r3.electionElapsed = r3.randomizedElectionTimeout - 1;
    c.node(3).node.tick();
    c.stabilize();
    expect(r3.state).toBe("Candidate");
    expect(r3.term).toBe(2);
    expect(c.raft(1).state).toBe("Leader"); // its vote request was ignored (lease)
    c.tick(1, 1); // the heartbeat to 3 is answered at term 2
    expect(c.raft(1).state).toBe("Follower");
    expect(c.raft(1).term).toBe(2);
    const leader = c.tickUntilOneLeader();
    c.propose(leader, "b");
    c.tickAll(30);
    expect(c.leaders()).toEqual([leader]);
    expect(converged(c)).toEqual(["a", "b"]);
  });

  it("a stale leader learns the newer term from a follower's answer and its uncommitted entries are discarded", () => {
    // Reference: Raft §5.1, §5.3 (the new leader's log wins), thesis §6.2.
    const c = new Cluster({ config: { checkQuorum: true } });
    c.elect(1);
    c.propose(1, "a");
    c.isolate(1);
    // 2 and 3 stop hearing from 1; once their leases expire one of them wins term 2.
    c.tickNodes([2, 3], 40);
    const newLeader = c.leaders().find((id) => id !== 1)!;
    expect(newLeader).toBeDefined();
    expect(c.raft(newLeader).term).toBe(2);
    // 1 has not run its check-quorum yet (it did not tick): still leader of term 1.
    expect(c.raft(1).state).toBe("Leader");
    expect(c.raft(1).term).toBe(1);
    c.node(1).node.propose(text("stale"));
    c.stabilize();
    c.propose(newLeader, "b");
    const other = newLeader === 2 ? 3 : 2;
    // Only the link 1 <-> follower of the new leader comes back.
    c.mend(1, other);
    c.clearTrace();
    c.tick(1, 1);
    expect(c.sent(isMsg(MessageType.MsgAppendResponse, other, 1)).map(brief)).toContain(`MsgAppendResponse ${other}->1 t2`);
    expect(c.raft(1).state).toBe("Follower");
    expect(c.raft(1).term).toBe(2);
    c.heal();
    c.tickAll(30);
    expect(c.leaders().length).toBe(1);
    expect(converged(c)).toEqual(["a", "b"]);
    expect(c.logOf(1)).toEqual(c.logOf(c.leaders()[0]!));
    expect(c.logOf(1).some((e) => e.endsWith(":stale"))).toBe(false);
  });

  it("a rejoining node with a higher term but a stale log cannot win; the others elect and keep the log", () => {
    // Reference: Raft §5.4.1 — the election restriction still holds after the disruption.
    const c = new Cluster({ voters: [1, 2, 3, 4, 5], config: { checkQuorum: true } });
    c.elect(1);
    c.isolate(5);
    for (const s of ["a", "b", "c"]) c.propose(1, s);
    c.tick(5, 80);
    expect(c.raft(5).term).toBeGreaterThan(5);
    c.heal();
    c.tickAll(100);
    const leaders = c.leaders();
    expect(leaders.length).toBe(1);
    expect(leaders[0]).not.toBe(5);
    for (const id of c.ids()) expect(c.raft(id).term).toBe(c.raft(leaders[0]!).term);
    expect(converged(c)).toEqual(["a", "b", "c"]);
    // 5 never became leader in any term.
    expect(c.sent((m) => m.from === 5 && m.type === MessageType.MsgAppend)).toEqual([]);
  });
});
