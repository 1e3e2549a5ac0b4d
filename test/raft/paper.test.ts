// The Raft paper tests: one test per rule that sections 5.1-5.4 of the Raft paper
// ("In Search of an Understandable Consensus Algorithm", Ongaro & Ousterhout) state about a
// single server, checked on one RawNode whose peers are played by hand. The list of rules
// follows the one etcd-io/raft checks in its paper tests; the scenarios and the code are
// our own.
//
// Every test has three parts: init (a node with a chosen log, hard state and role), act
// (tick it or step crafted messages into it) and check (its role, term, vote, log and
// commit index, and the exact messages it sends). Messages leave the node only through its
// Ready, which the helpers persist before they hand the messages to the test, as a driver
// must.

import { describe, expect, it } from "vitest";
import {
  type Message,
  MessageType,
  describeMessage,
  newEntry,
  newMessage,
} from "../../runtime/raft/index.js";
import {
  acceptAndReply,
  acceptAppendsUntilQuiet,
  byRecipient,
  drain,
  electLeader,
  electLeaderAndCommitNoop,
  exchange,
  handleReady,
  ids,
  idsBySize,
  logOf,
  newPeer,
  text,
  voteResponse,
} from "./paper-helpers.js";

const str = (b: Uint8Array): string => new TextDecoder().decode(b);
const described = (msgs: readonly Message[]): string[] => byRecipient(msgs).map(describeMessage);

/** Messages of a term-2 peer (node 2) that each carry a term above the node's term 1. */
function higherTermMessages(): Message[] {
  return [
    newMessage({ type: MessageType.MsgAppend, from: 2, to: 1, term: 2 }),
    newMessage({ type: MessageType.MsgHeartbeat, from: 2, to: 1, term: 2 }),
    newMessage({ type: MessageType.MsgRequestVote, from: 2, to: 1, term: 2 }),
    // A rejected vote from a voter that is already in a later term (a candidate steps down).
    newMessage({ type: MessageType.MsgRequestVoteResponse, from: 2, to: 1, term: 2, reject: true }),
    // Answers from a node that has moved on (a deposed leader learns of the new term).
    newMessage({ type: MessageType.MsgAppendResponse, from: 2, to: 1, term: 2, reject: true }),
    newMessage({ type: MessageType.MsgHeartbeatResponse, from: 2, to: 1, term: 2 }),
  ];
}

/** The leader that the message announces, if any: appends and heartbeats come from one. */
function announcedLeader(m: Message): number {
  return m.type === MessageType.MsgAppend || m.type === MessageType.MsgHeartbeat ? m.from : 0;
}

describe("Raft paper §5.1: terms", () => {
  it("a follower that sees a higher term adopts it", () => {
    // Reference: section 5.1
    for (const m of higherTermMessages()) {
      // init: a follower at term 1
      const p = newPeer(1, { hardState: { term: 1 } });
      // act
      p.node.step(m);
      // check
      const r = p.node.raft;
      expect(r.term, describeMessage(m)).toBe(2);
      expect(r.state, describeMessage(m)).toBe("Follower");
      expect(r.lead, describeMessage(m)).toBe(announcedLeader(m));
      // node 2's empty log is as up-to-date as ours, so its vote request is granted
      expect(r.vote, describeMessage(m)).toBe(m.type === MessageType.MsgRequestVote ? 2 : 0);
      drain(p);
      expect(p.storage.initialState().hardState.term, describeMessage(m)).toBe(2);
    }
  });

  it("a candidate that sees a higher term adopts it and reverts to follower", () => {
    // Reference: section 5.1 (and §5.2: a vote response from a later term ends the candidacy)
    for (const m of higherTermMessages()) {
      // init: a candidate of term 1 that has persisted its own vote
      const p = newPeer(1);
      p.node.campaign();
      drain(p);
      expect(p.node.raft.state).toBe("Candidate");
      expect(p.node.raft.term).toBe(1);
      // act
      p.node.step(m);
      // check
      const r = p.node.raft;
      expect(r.term, describeMessage(m)).toBe(2);
      expect(r.state, describeMessage(m)).toBe("Follower");
      expect(r.lead, describeMessage(m)).toBe(announcedLeader(m));
      // node 2's empty log is as up-to-date as ours, so its vote request is granted
      expect(r.vote, describeMessage(m)).toBe(m.type === MessageType.MsgRequestVote ? 2 : 0);
      drain(p);
      expect(p.storage.initialState().hardState.term, describeMessage(m)).toBe(2);
    }
  });

  it("a leader that sees a higher term adopts it and reverts to follower", () => {
    // Reference: section 5.1
    for (const m of higherTermMessages()) {
      // init: the leader of term 1
      const p = newPeer(1);
      electLeader(p);
      expect(p.node.raft.state).toBe("Leader");
      // act
      p.node.step(m);
      // check
      const r = p.node.raft;
      expect(r.term, describeMessage(m)).toBe(2);
      expect(r.state, describeMessage(m)).toBe("Follower");
      expect(r.lead, describeMessage(m)).toBe(announcedLeader(m));
      // the leader's log holds its empty entry, so node 2's empty log gets no vote
      expect(r.vote, describeMessage(m)).toBe(0);
      drain(p);
      expect(p.storage.initialState().hardState.term, describeMessage(m)).toBe(2);
    }
  });

  it("a request with a stale term is refused: nothing changes and nothing is granted", () => {
    // Reference: section 5.1 ("If a server receives a request with a stale term number, it
    // rejects the request"; this core ignores it, which the old leader learns from others).
    // init: a follower at term 2 with one entry of term 1, nothing committed
    const p = newPeer(1, { logTerms: [1], hardState: { term: 2 } });
    // act: an append, a heartbeat and a vote request, all of term 1
    p.node.step(
      newMessage({
        type: MessageType.MsgAppend,
        from: 2,
        to: 1,
        term: 1,
        index: 1,
        logTerm: 1,
        entries: [newEntry({ term: 1, index: 2 })],
        commit: 2,
      }),
    );
    p.node.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2, to: 1, term: 1, commit: 1 }));
    p.node.step(newMessage({ type: MessageType.MsgRequestVote, from: 3, to: 1, term: 1, index: 5, logTerm: 1 }));
    // check
    const r = p.node.raft;
    expect(r.term).toBe(2);
    expect(r.vote).toBe(0);
    expect(r.lead).toBe(0);
    expect(ids(r.raftLog.allEntries())).toEqual(["1/1"]);
    expect(r.raftLog.committed).toBe(0);
    expect(p.node.hasReady()).toBe(false);
  });
});

describe("Raft paper §5.2: leader election", () => {
  it("servers start up as followers", () => {
    // Reference: section 5.2
    // init / act: a fresh node, and a node restarted from a term-5 hard state
    const fresh = newPeer(1);
    const restarted = newPeer(1, { logTerms: [1, 5], hardState: { term: 5, vote: 2, commit: 1 } });
    // check
    expect(fresh.node.raft.state).toBe("Follower");
    expect(fresh.node.raft.term).toBe(0);
    expect(fresh.node.raft.lead).toBe(0);
    expect(restarted.node.raft.state).toBe("Follower");
    expect(restarted.node.raft.term).toBe(5);
    expect(restarted.node.raft.vote).toBe(2);
    expect(restarted.node.raft.lead).toBe(0);
  });

  it("the leader sends empty heartbeats to every follower each heartbeat timeout", () => {
    // Reference: section 5.2
    // init: leader of term 1 with a heartbeat timeout of 3 ticks and entries its followers
    // have not acknowledged (so a heartbeat must not carry them, nor a commit beyond them)
    const p = newPeer(1, { heartbeatTick: 3 });
    electLeader(p);
    for (const d of ["a", "b", "c"]) p.node.propose(text(d));
    drain(p);
    for (let round = 0; round < 3; round++) {
      // act: one tick short of the timeout
      p.node.tick();
      p.node.tick();
      // check: silence
      expect(drain(p), `round ${round}`).toEqual([]);
      // act: the timeout elapses
      p.node.tick();
      // check
      const msgs = drain(p);
      expect(described(msgs), `round ${round}`).toEqual([
        "1->2 MsgHeartbeat Term:1 Log:0/0",
        "1->3 MsgHeartbeat Term:1 Log:0/0",
      ]);
      for (const m of msgs) expect(m.entries).toEqual([]);
    }
  });

  it("a follower that hears nothing for an election timeout starts an election", () => {
    // Reference: section 5.2 (increment the term, become candidate, vote for itself, send
    // RequestVote to every other server)
    // init: follower of leader 2 at term 1
    const p = newPeer(1, { hardState: { term: 1 } });
    p.node.step(newMessage({ type: MessageType.MsgHeartbeat, from: 2, to: 1, term: 1 }));
    drain(p);
    expect(p.node.raft.lead).toBe(2);
    // act: the longest possible randomized timeout is 2*electionTick-1 ticks
    for (let i = 1; i < 2 * 10; i++) p.node.tick();
    const msgs = drain(p);
    // check
    const r = p.node.raft;
    expect(r.state).toBe("Candidate");
    expect(r.term).toBe(2);
    expect(r.vote).toBe(1);
    expect(r.trk.votes.get(1)).toBe(true);
    expect(p.storage.initialState().hardState).toEqual({ term: 2, vote: 1, commit: 0 });
    expect(described(msgs)).toEqual([
      "1->2 MsgRequestVote Term:2 Log:0/0",
      "1->3 MsgRequestVote Term:2 Log:0/0",
    ]);
  });

  it("a candidate that neither wins nor loses times out and starts a new election", () => {
    // Reference: section 5.2
    // init: candidate of term 1 with only its own vote
    const p = newPeer(1);
    p.node.campaign();
    drain(p);
    expect(p.node.raft.state).toBe("Candidate");
    // act
    for (let i = 1; i < 2 * 10; i++) p.node.tick();
    const msgs = drain(p);
    // check: a fresh round at term 2, with the votes of term 1 forgotten
    const r = p.node.raft;
    expect(r.state).toBe("Candidate");
    expect(r.term).toBe(2);
    expect(r.vote).toBe(1);
    expect([...r.trk.votes]).toEqual([[1, true]]);
    expect(described(msgs)).toEqual([
      "1->2 MsgRequestVote Term:2 Log:0/0",
      "1->3 MsgRequestVote Term:2 Log:0/0",
    ]);
  });

  it("one round of RequestVote ends in winning, losing or no decision", () => {
    // Reference: section 5.2 (win with votes from a majority; lose to a majority of
    // rejections; otherwise stay candidate until the timeout)
    const cases: Array<{ size: number; votes: Record<number, boolean>; want: string }> = [
      { size: 1, votes: {}, want: "Leader" },
      { size: 3, votes: { 2: true, 3: true }, want: "Leader" },
      { size: 3, votes: { 2: true }, want: "Leader" },
      { size: 5, votes: { 2: true, 3: true, 4: true, 5: true }, want: "Leader" },
      { size: 5, votes: { 2: true, 3: true, 4: true }, want: "Leader" },
      { size: 5, votes: { 2: true, 3: true }, want: "Leader" },
      { size: 5, votes: { 2: false, 3: true, 4: false, 5: true }, want: "Leader" },
      { size: 3, votes: { 2: false, 3: false }, want: "Follower" },
      { size: 5, votes: { 2: false, 3: false, 4: false, 5: false }, want: "Follower" },
      { size: 5, votes: { 2: true, 3: false, 4: false, 5: false }, want: "Follower" },
      { size: 3, votes: {}, want: "Candidate" },
      { size: 3, votes: { 2: false }, want: "Candidate" },
      { size: 5, votes: {}, want: "Candidate" },
      { size: 5, votes: { 2: true }, want: "Candidate" },
      { size: 5, votes: { 2: false, 3: false }, want: "Candidate" },
      { size: 5, votes: { 2: true, 3: false, 4: false }, want: "Candidate" },
    ];
    for (const [i, c] of cases.entries()) {
      // init: a candidate of term 1 whose own vote is persisted
      const p = newPeer(1, { voters: idsBySize(c.size) });
      p.node.campaign();
      drain(p);
      // act
      for (const [from, granted] of Object.entries(c.votes)) p.node.step(voteResponse(Number(from), 1, 1, granted));
      // check
      expect(p.node.raft.state, `case ${i}`).toBe(c.want);
      expect(p.node.raft.term, `case ${i}`).toBe(1);
    }
  });

  it("a follower votes for at most one candidate per term, first come first served", () => {
    // Reference: section 5.2
    const request = (from: number) => newMessage({ type: MessageType.MsgRequestVote, from, to: 1, term: 1 });
    const cases: Array<{ votedFor: number; candidate: number; reject: boolean }> = [
      { votedFor: 0, candidate: 2, reject: false },
      { votedFor: 0, candidate: 3, reject: false },
      { votedFor: 2, candidate: 2, reject: false }, // a repeated request gets the same answer
      { votedFor: 3, candidate: 3, reject: false },
      { votedFor: 2, candidate: 3, reject: true },
      { votedFor: 3, candidate: 2, reject: true },
    ];
    for (const [i, c] of cases.entries()) {
      // init: a follower in term 1 that already voted for `votedFor` (0 = nobody)
      const p = newPeer(1, { hardState: { term: 1, vote: c.votedFor } });
      // act
      p.node.step(request(c.candidate));
      const msgs = drain(p);
      // check
      expect(msgs.map((m) => [m.type, m.from, m.to, m.term, m.reject]), `case ${i}`).toEqual([
        [MessageType.MsgRequestVoteResponse, 1, c.candidate, 1, c.reject],
      ]);
      expect(p.node.raft.vote, `case ${i}`).toBe(c.votedFor || c.candidate);
    }

    // init: a follower in term 1 that has not voted
    const p = newPeer(1, { hardState: { term: 1 } });
    // act: candidates 2, 3 and 2 again ask in turn
    const answers: boolean[] = [];
    for (const from of [2, 3, 2]) {
      p.node.step(request(from));
      const [m, ...rest] = drain(p);
      expect(rest).toEqual([]);
      answers.push(!m!.reject);
    }
    // check: only the first candidate gets (and keeps) the vote, which is on stable storage
    expect(answers).toEqual([true, false, true]);
    expect(p.storage.initialState().hardState.vote).toBe(2);

    // init: a candidate of term 1 has already voted, for itself
    const c = newPeer(1);
    c.node.campaign();
    drain(c);
    // act: a rival candidate of the same term asks
    c.node.step(request(2));
    // check: refused
    expect(described(drain(c))).toEqual(["1->2 MsgRequestVoteResponse Term:1 Log:0/0 Rejected (Hint: 0)"]);
    expect(c.node.raft.vote).toBe(1);
    expect(c.node.raft.state).toBe("Candidate");
  });

  it("a candidate that receives AppendEntries from a leader of its term or later becomes follower", () => {
    // Reference: section 5.2
    for (const term of [1, 2]) {
      // init: a candidate of term 1
      const p = newPeer(1);
      p.node.campaign();
      drain(p);
      expect(p.node.raft.state).toBe("Candidate");
      // act
      p.node.step(newMessage({ type: MessageType.MsgAppend, from: 2, to: 1, term }));
      const msgs = drain(p);
      // check: it follows node 2 and accepts the (empty) append
      const r = p.node.raft;
      expect(r.state, `term ${term}`).toBe("Follower");
      expect(r.term, `term ${term}`).toBe(term);
      expect(r.lead, `term ${term}`).toBe(2);
      expect(described(msgs)).toEqual([`1->2 MsgAppendResponse Term:${term} Log:0/0`]);
    }
  });

  it("a follower's election timeout is randomized over [electionTick, 2*electionTick)", () => {
    // Reference: section 5.2
    const et = 10;
    // init: a follower of node 2
    const p = newPeer(1, { electionTick: et });
    const r = p.node.raft;
    const seen = new Set<number>();
    for (let round = 0; round < 50 * et; round++) {
      r.becomeFollower(r.term + 1, 2);
      r.msgs = [];
      r.msgsAfterAppend = [];
      // act: tick until it asks for votes
      let ticks = 0;
      while (r.msgs.length === 0) {
        p.node.tick();
        ticks++;
        if (ticks > 4 * et) throw new Error("no election");
      }
      seen.add(ticks);
    }
    // check: every timeout in the range occurs, and nothing outside it
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: et }, (_, i) => et + i));
  });

  it("a candidate's election timeout is randomized over [electionTick, 2*electionTick)", () => {
    // Reference: section 5.2
    const et = 10;
    // init: a node that keeps becoming candidate
    const p = newPeer(1, { electionTick: et });
    const r = p.node.raft;
    const seen = new Set<number>();
    for (let round = 0; round < 50 * et; round++) {
      r.becomeCandidate();
      r.msgs = [];
      r.msgsAfterAppend = [];
      // act: tick until it starts the next election
      let ticks = 0;
      while (r.msgs.length === 0) {
        p.node.tick();
        ticks++;
        if (ticks > 4 * et) throw new Error("no election");
      }
      seen.add(ticks);
    }
    // check
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: et }, (_, i) => et + i));
  });

  /** The fraction of rounds in which more than one of five nodes times out first. */
  function conflictRate(role: "Follower" | "Candidate"): number {
    const et = 10;
    const rounds = 1000;
    const peers = idsBySize(5).map((id) => newPeer(id, { voters: idsBySize(5), electionTick: et, seed: 7 * id + 3 }));
    let conflicts = 0;
    for (let round = 0; round < rounds; round++) {
      for (const p of peers) {
        const r = p.node.raft;
        if (role === "Follower") r.becomeFollower(r.term + 1, 0);
        else r.becomeCandidate();
        r.msgs = [];
        r.msgsAfterAppend = [];
      }
      let timedOut = 0;
      while (timedOut === 0) {
        for (const p of peers) {
          p.node.tick();
          if (p.node.raft.msgs.length > 0) timedOut++;
        }
      }
      if (timedOut > 1) conflicts++;
    }
    return conflicts / rounds;
  }

  it("randomized timeouts make followers rarely time out together", () => {
    // Reference: section 5.2 ("in most cases only a single server will time out")
    // init / act: five followers of a dead leader, 1000 times over
    const rate = conflictRate("Follower");
    // check
    expect(rate).toBeLessThanOrEqual(0.3);
  });

  it("randomized timeouts make candidates rarely time out together", () => {
    // Reference: section 5.2 (split votes are resolved because candidates restart at
    // different times)
    // init / act: five candidates of a split vote, 1000 times over
    const rate = conflictRate("Candidate");
    // check
    expect(rate).toBeLessThanOrEqual(0.3);
  });
});

describe("Raft paper §5.3: log replication", () => {
  it("the leader appends a proposal to its log and sends AppendEntries to every follower", () => {
    // Reference: section 5.3 (the RPC names the entry just before the new ones; the entry
    // is written to stable storage)
    // init: leader of term 1 whose empty entry is committed on every follower
    const p = newPeer(1);
    electLeaderAndCommitNoop(p);
    const r = p.node.raft;
    const li = r.raftLog.lastIndex();
    // act
    p.node.propose(text("some data"));
    // check: in the log, not committed
    expect(r.raftLog.lastIndex()).toBe(li + 1);
    expect(r.raftLog.committed).toBe(li);
    const rd = p.node.ready();
    expect(rd.entries.map((e) => [e.index, e.term, str(e.data)])).toEqual([[li + 1, 1, "some data"]]);
    expect(described(rd.messages)).toEqual([
      `1->2 MsgAppend Term:1 Log:1/${li} Commit:${li} Entries:[1/${li + 1} EntryNormal "some data"]`,
      `1->3 MsgAppend Term:1 Log:1/${li} Commit:${li} Entries:[1/${li + 1} EntryNormal "some data"]`,
    ]);
    handleReady(p, rd);
    expect(p.storage.lastIndex()).toBe(li + 1);
    expect(str(p.storage.entries(li + 1, li + 2)[0]!.data)).toBe("some data");
  });

  it("the leader commits an entry replicated on a majority, applies it, and announces the commit", () => {
    // Reference: section 5.3 (the leader includes the highest committed index in future
    // AppendEntries so that the followers find out)
    // init
    const p = newPeer(1);
    electLeaderAndCommitNoop(p);
    const r = p.node.raft;
    const li = r.raftLog.lastIndex();
    p.node.propose(text("some data"));
    const appends = drain(p);
    // act: both followers accept
    for (const m of appends) if (m.type === MessageType.MsgAppend) p.node.step(acceptAndReply(m));
    // check
    expect(r.raftLog.committed).toBe(li + 1);
    const rd = p.node.ready();
    expect(rd.committedEntries.map((e) => [e.index, e.term, str(e.data)])).toEqual([[li + 1, 1, "some data"]]);
    expect(described(rd.messages)).toEqual([
      `1->2 MsgAppend Term:1 Log:1/${li + 1} Commit:${li + 1}`,
      `1->3 MsgAppend Term:1 Log:1/${li + 1} Commit:${li + 1}`,
    ]);
    handleReady(p, rd);
  });

  it("an entry is committed once the leader has it replicated on a majority", () => {
    // Reference: section 5.3
    const cases: Array<{ size: number; acceptors: number[]; committed: boolean }> = [
      { size: 1, acceptors: [], committed: true },
      { size: 3, acceptors: [], committed: false },
      { size: 3, acceptors: [2], committed: true },
      { size: 3, acceptors: [2, 3], committed: true },
      { size: 5, acceptors: [], committed: false },
      { size: 5, acceptors: [2], committed: false },
      { size: 5, acceptors: [4], committed: false },
      { size: 5, acceptors: [2, 3], committed: true },
      { size: 5, acceptors: [3, 5], committed: true },
      { size: 5, acceptors: [2, 3, 4], committed: true },
      { size: 5, acceptors: [2, 3, 4, 5], committed: true },
    ];
    for (const [i, c] of cases.entries()) {
      // init: a leader whose empty entry is committed everywhere
      const p = newPeer(1, { voters: idsBySize(c.size) });
      electLeaderAndCommitNoop(p);
      const r = p.node.raft;
      const li = r.raftLog.lastIndex();
      // act: propose; the leader persists it; the acceptors acknowledge
      p.node.propose(text("some data"));
      for (const m of drain(p)) if (m.type === MessageType.MsgAppend && c.acceptors.includes(m.to)) p.node.step(acceptAndReply(m));
      drain(p);
      // check
      expect(r.raftLog.committed, `case ${i}`).toBe(c.committed ? li + 1 : li);
      expect(p.applied.some((e) => str(e.data) === "some data"), `case ${i}`).toBe(c.committed);
    }
  });

  it("committing an entry commits every entry before it, including those of earlier leaders", () => {
    // Reference: section 5.3
    const priorLogs: number[][] = [[], [2], [1, 2], [1], [1, 1, 2, 2]];
    for (const prior of priorLogs) {
      // init: a node at term 2 with entries of earlier terms, none known committed
      const p = newPeer(1, { logTerms: prior, hardState: { term: 2 } });
      // act: it becomes leader of term 3, takes a proposal, and the followers accept it all
      const first = electLeader(p);
      p.node.propose(text("some data"));
      acceptAppendsUntilQuiet(p, [...first, ...drain(p)], [2, 3]);
      // check: everything was committed and handed out in order
      const r = p.node.raft;
      const li = prior.length;
      expect(r.raftLog.committed, `prior ${prior}`).toBe(li + 2);
      expect(ids(p.applied), `prior ${prior}`).toEqual(ids(logOf([...prior, 3, 3])));
      expect(str(p.applied[li + 1]!.data)).toBe("some data");
    }
  });

  it("a follower learns the commit index from AppendEntries and applies the committed entries", () => {
    // Reference: section 5.3
    const data = (e: { data: Uint8Array }) => str(e.data);
    const cases: Array<{ ents: string[]; commit: number }> = [
      { ents: ["some data"], commit: 1 },
      { ents: ["some data", "some data2"], commit: 2 },
      { ents: ["some data2", "some data"], commit: 2 },
      { ents: ["some data", "some data2"], commit: 1 },
    ];
    for (const [i, c] of cases.entries()) {
      // init: a follower of node 2 in term 1
      const p = newPeer(1, { hardState: { term: 1 } });
      const ents = c.ents.map((d, k) => newEntry({ term: 1, index: k + 1, data: text(d) }));
      // act
      p.node.step(newMessage({ type: MessageType.MsgAppend, from: 2, to: 1, term: 1, entries: ents, commit: c.commit }));
      const msgs = drain(p);
      // check
      expect(p.node.raft.raftLog.committed, `case ${i}`).toBe(c.commit);
      expect(p.applied.map(data), `case ${i}`).toEqual(c.ents.slice(0, c.commit));
      expect(described(msgs), `case ${i}`).toEqual([`1->2 MsgAppendResponse Term:1 Log:0/${ents.length}`]);
    }
  });

  it("a follower refuses AppendEntries whose previous entry is not in its log", () => {
    // Reference: section 5.3 (the consistency check); the rejection carries a hint
    // (index, term) so the leader can skip a whole term at a time
    const cases: Array<{ logTerm: number; index: number; respIndex: number; reject: boolean; hint: number; hintTerm: number }> = [
      { logTerm: 0, index: 0, respIndex: 1, reject: false, hint: 0, hintTerm: 0 }, // below the commit index
      { logTerm: 1, index: 1, respIndex: 1, reject: false, hint: 0, hintTerm: 0 }, // matches a committed entry
      { logTerm: 2, index: 2, respIndex: 2, reject: false, hint: 0, hintTerm: 0 }, // matches an uncommitted entry
      { logTerm: 1, index: 2, respIndex: 2, reject: true, hint: 1, hintTerm: 1 }, // same index, other term
      { logTerm: 3, index: 3, respIndex: 3, reject: true, hint: 2, hintTerm: 2 }, // no entry there
    ];
    for (const [i, c] of cases.entries()) {
      // init: a follower with entries 1/1 and 2/2, the first committed
      const p = newPeer(1, { logTerms: [1, 2], hardState: { term: 2, commit: 1 } });
      // act
      p.node.step(newMessage({ type: MessageType.MsgAppend, from: 2, to: 1, term: 2, logTerm: c.logTerm, index: c.index }));
      const msgs = drain(p);
      // check
      expect(
        msgs.map((m) => ({ type: m.type, to: m.to, term: m.term, index: m.index, reject: m.reject, hint: m.rejectHint, hintTerm: m.logTerm })),
        `case ${i}`,
      ).toEqual([
        { type: MessageType.MsgAppendResponse, to: 2, term: 2, index: c.respIndex, reject: c.reject, hint: c.hint, hintTerm: c.hintTerm },
      ]);
      expect(ids(p.node.raft.raftLog.allEntries()), `case ${i}`).toEqual(["1/1", "2/2"]);
    }
  });

  it("a follower appends new entries, deleting a conflicting suffix first", () => {
    // Reference: section 5.3 ("If an existing entry conflicts with a new one (same index but
    // different terms), delete the existing entry and all that follow it")
    const cases: Array<{ index: number; logTerm: number; ents: Array<[number, number]>; log: string[]; unstable: string[] }> = [
      { index: 2, logTerm: 2, ents: [[3, 3]], log: ["1/1", "2/2", "3/3"], unstable: ["3/3"] },
      { index: 1, logTerm: 1, ents: [[2, 3], [3, 4]], log: ["1/1", "2/3", "3/4"], unstable: ["2/3", "3/4"] },
      { index: 0, logTerm: 0, ents: [[1, 1]], log: ["1/1", "2/2"], unstable: [] },
      { index: 0, logTerm: 0, ents: [[1, 3]], log: ["1/3"], unstable: ["1/3"] },
      { index: 1, logTerm: 1, ents: [[2, 2], [3, 2]], log: ["1/1", "2/2", "3/2"], unstable: ["3/2"] },
    ];
    for (const [i, c] of cases.entries()) {
      // init: a follower in term 2 with entries 1/1 and 2/2, none committed
      const p = newPeer(1, { logTerms: [1, 2], hardState: { term: 2 } });
      const entries = c.ents.map(([index, term]) => newEntry({ index, term }));
      // act
      p.node.step(newMessage({ type: MessageType.MsgAppend, from: 2, to: 1, term: 2, logTerm: c.logTerm, index: c.index, entries }));
      // check: the log as the node sees it, and what it hands out to be written
      expect(ids(p.node.raft.raftLog.allEntries()), `case ${i}`).toEqual(c.log);
      const rd = p.node.ready();
      expect(ids(rd.entries), `case ${i}`).toEqual(c.unstable);
      handleReady(p, rd);
      expect(ids(p.storage.entries(p.storage.firstIndex(), p.storage.lastIndex() + 1)), `case ${i}`).toEqual(c.log);
    }
  });

  it("the leader brings a follower's divergent log into agreement with its own (Figure 7)", () => {
    // Reference: section 5.3, Figure 7
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<string, number[]> = {
      a: [1, 1, 1, 4, 4, 5, 5, 6, 6], // missing entries
      b: [1, 1, 1, 4], // missing more
      c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // an extra uncommitted entry
      d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // extra entries of a later term
      e: [1, 1, 1, 4, 4, 4, 4], // missing and extra
      f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // a leader of terms 2 and 3 that never committed
    };
    for (const [name, followerLog] of Object.entries(followers)) {
      // init: the leader-to-be at term 8 with its log committed; the follower at term 7
      const leader = newPeer(1, { logTerms: leaderLog, hardState: { term: 8, commit: leaderLog.length } });
      const follower = newPeer(2, { logTerms: followerLog, hardState: { term: 7 } });
      // act: node 1 campaigns (node 3 is down but for its vote) and replicates a proposal
      leader.node.campaign();
      exchange([leader, follower], drain(leader));
      leader.node.step(voteResponse(3, 1, 9, true));
      exchange([leader, follower], drain(leader));
      expect(leader.node.raft.state, name).toBe("Leader");
      leader.node.propose(text("x"));
      exchange([leader, follower], drain(leader));
      // check
      const want = ids(logOf([...leaderLog, 9, 9]));
      expect(ids(leader.node.raft.raftLog.allEntries()), name).toEqual(want);
      expect(ids(follower.node.raft.raftLog.allEntries()), name).toEqual(want);
      expect(ids(follower.storage.entries(1, follower.storage.lastIndex() + 1)), name).toEqual(want);
      expect(leader.node.raft.raftLog.committed, name).toBe(want.length);
      expect(follower.node.raft.raftLog.committed, name).toBe(want.length);
    }
  });
});

describe("Raft paper §5.4: safety", () => {
  it("a RequestVote carries the index and term of the candidate's last entry", () => {
    // Reference: section 5.4.1
    const cases: Array<{ terms: number[]; wantTerm: number }> = [
      { terms: [1], wantTerm: 2 },
      { terms: [1, 2], wantTerm: 3 },
      { terms: [1, 1, 3], wantTerm: 4 },
    ];
    for (const c of cases) {
      // init: a follower that received the entries from a leader one term below wantTerm
      const p = newPeer(1);
      const entries = logOf(c.terms);
      p.node.step(newMessage({ type: MessageType.MsgAppend, from: 2, to: 1, term: c.wantTerm - 1, entries }));
      drain(p);
      // act: the leader goes silent
      for (let i = 1; i < 2 * 10; i++) p.node.tick();
      const msgs = drain(p);
      // check
      const last = entries[entries.length - 1]!;
      expect(described(msgs), `terms ${c.terms}`).toEqual([
        `1->2 MsgRequestVote Term:${c.wantTerm} Log:${last.term}/${last.index}`,
        `1->3 MsgRequestVote Term:${c.wantTerm} Log:${last.term}/${last.index}`,
      ]);
    }
  });

  it("a voter grants its vote only to a candidate whose log is at least as up-to-date", () => {
    // Reference: section 5.4.1 (compare the terms of the last entries; with equal terms,
    // the longer log is more up-to-date)
    const cases: Array<{ voterLog: number[]; logTerm: number; index: number; reject: boolean }> = [
      // same last term: the candidate's log must be at least as long
      { voterLog: [1], logTerm: 1, index: 1, reject: false },
      { voterLog: [1], logTerm: 1, index: 2, reject: false },
      { voterLog: [1, 1], logTerm: 1, index: 1, reject: true },
      // the candidate's last term is higher: length does not matter
      { voterLog: [1], logTerm: 2, index: 1, reject: false },
      { voterLog: [1], logTerm: 2, index: 2, reject: false },
      { voterLog: [1, 1], logTerm: 2, index: 1, reject: false },
      // the voter's last term is higher: length does not matter
      { voterLog: [2], logTerm: 1, index: 1, reject: true },
      { voterLog: [2], logTerm: 1, index: 2, reject: true },
      { voterLog: [1, 2], logTerm: 1, index: 5, reject: true },
      // an empty log loses to anything and ties with nothing
      { voterLog: [], logTerm: 0, index: 0, reject: false },
      { voterLog: [1], logTerm: 0, index: 0, reject: true },
    ];
    for (const [i, c] of cases.entries()) {
      // init: a voter with the given log, in term 0
      const p = newPeer(1, { logTerms: c.voterLog });
      // act: node 2 asks for its vote in term 3
      p.node.step(newMessage({ type: MessageType.MsgRequestVote, from: 2, to: 1, term: 3, logTerm: c.logTerm, index: c.index }));
      const msgs = drain(p);
      // check
      expect(msgs.map((m) => [m.type, m.to, m.term, m.reject]), `case ${i}`).toEqual([[MessageType.MsgRequestVoteResponse, 2, 3, c.reject]]);
      expect(p.node.raft.vote, `case ${i}`).toBe(c.reject ? 0 : 2);
    }
  });

  it("a leader commits by counting replicas only entries of its own term (Figure 8)", () => {
    // Reference: section 5.4.2
    const cases: Array<{ ackIndex: number; wantCommit: number }> = [
      { ackIndex: 1, wantCommit: 0 }, // a term-1 entry on a majority is not committed by counting
      { ackIndex: 2, wantCommit: 0 }, // nor a term-2 one
      { ackIndex: 3, wantCommit: 3 }, // the term-3 entry commits, and with it 1 and 2
      { ackIndex: 4, wantCommit: 4 },
    ];
    for (const c of cases) {
      // init: a node at term 2 with entries 1/1 and 2/2 becomes leader of term 3 (empty entry
      // 3/3) and proposes entry 4/3, which it persists
      const p = newPeer(1, { logTerms: [1, 2], hardState: { term: 2 } });
      electLeader(p);
      p.node.propose(text("some data"));
      drain(p);
      const r = p.node.raft;
      expect(r.term).toBe(3);
      // act: node 2 reports that it holds the log through ackIndex
      p.node.step(newMessage({ type: MessageType.MsgAppendResponse, from: 2, to: 1, term: 3, index: c.ackIndex }));
      drain(p);
      // check
      expect(r.raftLog.committed, `ack ${c.ackIndex}`).toBe(c.wantCommit);
      expect(ids(p.applied), `ack ${c.ackIndex}`).toEqual(ids(logOf([1, 2, 3, 3]).slice(0, c.wantCommit)));
    }
  });

  it("heartbeats tell each follower the commit index, but never beyond what it holds", () => {
    // Reference: section 5.3 (followers learn the commit index from the leader's RPCs,
    // heartbeats included) and 5.4 (a follower must not commit an entry it may not have)
    // init: 3 nodes; node 2 acknowledges entry 2, node 3 acknowledges nothing new
    const p = newPeer(1);
    electLeaderAndCommitNoop(p);
    p.node.propose(text("x"));
    for (const m of drain(p)) if (m.type === MessageType.MsgAppend && m.to === 2) p.node.step(acceptAndReply(m));
    drain(p);
    expect(p.node.raft.raftLog.committed).toBe(2);
    // act: a heartbeat timeout elapses
    p.node.tick();
    const msgs = drain(p);
    // check
    expect(described(msgs)).toEqual(["1->2 MsgHeartbeat Term:1 Log:0/0 Commit:2", "1->3 MsgHeartbeat Term:1 Log:0/0 Commit:1"]);
  });
});
