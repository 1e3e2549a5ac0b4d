// InteractionEnv: drives a group of RawNodes from datadriven scripts (test/raft/testdata/*.txt),
// in the spirit of etcd-io/raft's rafttest.InteractionEnv, written for our core.
//
// Each node has its own MemoryStorage, which plays the role of its disk. Nothing happens
// unless a script says so: ticks, Ready handling and message delivery are separate commands,
// so a script can hold messages back, drop them, reorder deliveries between nodes, or crash a
// node between steps. Handling a Ready follows the contract of raw-node.ts exactly:
//   1. `messages` join the network queue at once;
//   2. the snapshot (applySnapshot), the entries (append) and the hard state are persisted;
//   3. only then do `persistedMessages` join the queue;
//   4. committed entries are applied (EntryConfChange through applyConfChange, whose
//      ConfState is persisted with setConfState), then advance().
// The state machine is an "appender": its state is the concatenation of the data of every
// applied normal entry. A node keeps the state after each applied index, so `compact` can
// discard the log through any applied index; the snapshot a leader sends (and the one
// `send-snapshot` injects) is always the latest applied state, built on demand.
//
// Output is built from runtime/raft/describe.ts and from the core's own log lines, captured
// through levelLogger. Messages wait in one queue in the order they were sent, and every loop
// over nodes goes by ascending id, so the same script always prints the same bytes. Election
// jitter is off by default (the random source always answers 0, so the randomized election
// timeout equals electionTick); `seed=<n>` on add-nodes turns on a SeededRandom instead.
//
// Commands (arguments in brackets are optional):
//   add-nodes <n> [voters=(..)] [learners=(..)] [index=<i>] [content=<s>] [prevote=<bool>]
//             [checkquorum=<bool>] [read-only=safe|lease-based] [max-inflight=<n>]
//             [max-inflight-bytes=<n>] [max-size-per-msg=<n>] [max-uncommitted-size=<n>]
//             [max-committed-size-per-ready=<n>] [step-down-on-removal=<bool>]
//             [disable-proposal-forwarding=<bool>] [seed=<n>]
//   campaign <id>                      propose <id> <data>
//   propose-conf-change <id> v2 l3 r4  (v = add voter / promote, l = add learner, r = remove;
//                                       several tokens are proposed one after the other)
//   tick <id> [n]   tick-election <id>   tick-heartbeat <id>
//                                      (electionTick = 3 and heartbeatTick = 1 ticks, as etcd)
//   deliver-msgs [drop=(ids)] [type=MsgX] <id...>
//   process-ready <id...>   stabilize [<id...>]
//   raft-log <id>   raft-state   status <id>
//   compact <id> <index>               (snapshot at <index>, entries through it discarded)
//   send-snapshot <from> <to>   transfer-leadership from=<id> to=<id>
//   report-unreachable <id> <peer>   report-snapshot <id> <peer> finish|failure
//   read-index <id> <ctx>   set-randomized-election-timeout <id> timeout=<n>
//   log-level debug|info|warn|error|none   restart <id>
//   set-log <id> terms=(1,1,4,..) [term=<n>]   (give a fresh node a persisted log with these
//                                               entry terms, then restart it: for scenarios
//                                               such as Figure 7 of the Raft paper)
// Input lines below a command line are run as further commands (etcd's scripts do the same),
// so a setup block can be written as one case.

import {
  type Config,
  ConfChangeType,
  type ConfState,
  EMPTY_BYTES,
  EntryType,
  type Logger,
  MemoryStorage,
  type Message,
  MessageType,
  RaftError,
  type RandomSource,
  RawNode,
  type ReadOnlyOption,
  SeededRandom,
  type Snapshot,
  decodeConfChange,
  describeEntries,
  describeMessage,
  describeReady,
  discardLogger,
  levelLogger,
  newMessage,
} from "../../../runtime/raft/index.js";
import { type CmdArg, findArg, parseCommandLine, positional, type TestCase } from "../datadriven/parser.js";

/** The state of the "appender" state machine after applying everything through `index`. */
interface AppliedState {
  index: number;
  term: number;
  data: string;
  confState: ConfState;
}

/** One member of the group. */
interface EnvNode {
  id: number;
  node: RawNode;
  storage: EnvStorage;
  /** The configuration it was created with (reused on restart, with a fresh `applied`). */
  config: Config;
  /** States after each applied index, oldest first; the last one is the current state. */
  history: AppliedState[];
}

/**
 * A MemoryStorage whose snapshot() is the node's latest applied state, built on demand, as
 * DESIGN's node layer does (snapshot data read from a consistent view when a follower needs
 * it) and as etcd's InteractionEnv does. A stored snapshot from bootstrap or `compact` would
 * otherwise be sent with a stale configuration, for example one that predates the very
 * learner it is sent to.
 */
class EnvStorage extends MemoryStorage {
  latest: () => AppliedState = () => {
    throw new Error("EnvStorage.latest not wired");
  };

  override snapshot(): Snapshot {
    const st = this.latest();
    return { data: encoder.encode(st.data), metadata: { index: st.index, term: st.term, confState: st.confState } };
  }
}

/** A random source without jitter: the randomized election timeout is always electionTick. */
const NO_JITTER: RandomSource = { intn: () => 0 };

const ELECTION_TICK = 3;
const HEARTBEAT_TICK = 1;
/** No message size limit unless a script sets one. */
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class InteractionEnv {
  /** Nodes by id; ids are 1..n in creation order. */
  private readonly nodes: EnvNode[] = [];
  /** Messages sent and not yet delivered or dropped, in send order. */
  private queue: Message[] = [];
  private out: string[] = [];
  /** log-level none silences everything, command output included (as in etcd's scripts). */
  private quiet = false;
  private logger: Logger = levelLogger("info", (line) => this.write(line));
  /** What every node logs through: forwards to the current level's logger. */
  private readonly nodeLogger: Logger = {
    debug: (m) => this.logger.debug(m),
    info: (m) => this.logger.info(m),
    warn: (m) => this.logger.warn(m),
    error: (m) => this.logger.error(m),
  };

  /** Run one datadriven case (its command, then each input line as a command). */
  handle(c: TestCase): string {
    this.out = [];
    this.run(c.cmd, c.args, c.pos);
    c.input.split("\n").forEach((raw, k) => {
      const line = raw.trim();
      if (line === "" || line.startsWith("#")) return;
      const pos = `${c.file}:${c.line + 1 + k}`;
      const { cmd, args } = parseCommandLine(line, pos);
      this.run(cmd, args, pos);
    });
    const s = this.out.join("\n");
    return s === "" ? "ok" : s;
  }

  // ---------------------------------------------------------------------------------------
  // Output

  private write(text: string): void {
    if (this.quiet) return;
    for (const line of text.split("\n")) this.out.push(line);
  }

  /** Run fn and indent everything it wrote by two spaces. */
  private withIndent(fn: () => void): void {
    const start = this.out.length;
    fn();
    for (let i = start; i < this.out.length; i++) this.out[i] = `  ${this.out[i]}`;
  }

  /** Run fn; an expected error of the core (RaftError) becomes an output line. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (err instanceof RaftError) this.write(`error ${err.code}: ${err.message}`);
      else throw err;
    }
  }

  // ---------------------------------------------------------------------------------------
  // Dispatch

  private run(cmd: string, args: CmdArg[], pos: string): void {
    const a = new Args(cmd, args, pos);
    switch (cmd) {
      case "add-nodes":
        return this.addNodes(a);
      case "campaign":
        return this.guard(() => this.get(a.id(0)).node.campaign());
      case "propose": {
        const n = this.get(a.id(0));
        const data = a.word(1);
        return this.guard(() => n.node.propose(encoder.encode(data)));
      }
      case "propose-conf-change":
        return this.proposeConfChange(a);
      case "tick":
        return this.tick(a.id(0), a.has(1) ? a.int(1) : 1);
      case "tick-election":
        return this.tick(a.id(0), ELECTION_TICK);
      case "tick-heartbeat":
        return this.tick(a.id(0), HEARTBEAT_TICK);
      case "deliver-msgs":
        return this.deliverMsgs(a);
      case "process-ready": {
        const ids = a.ids();
        if (ids.length === 0) throw a.error("process-ready needs at least one node id");
        for (const id of ids) {
          if (ids.length > 1) {
            this.write(`> ${id} handling Ready`);
            this.withIndent(() => this.processReady(id));
          } else {
            this.processReady(id);
          }
        }
        return;
      }
      case "stabilize":
        return this.stabilize(a.ids());
      case "raft-log":
        return this.raftLog(a.id(0));
      case "raft-state":
        return this.raftState();
      case "status":
        return this.status(a.id(0));
      case "compact":
        return this.compact(a.id(0), a.int(1));
      case "send-snapshot":
        return this.sendSnapshot(a.id(0), a.id(1));
      case "transfer-leadership": {
        const from = this.get(a.intKey("from"));
        const to = a.intKey("to");
        return this.guard(() => from.node.transferLeader(to));
      }
      case "report-unreachable": {
        const n = this.get(a.id(0));
        return n.node.reportUnreachable(a.int(1));
      }
      case "report-snapshot": {
        const n = this.get(a.id(0));
        const peer = a.int(1);
        const status = a.word(2);
        if (status !== "finish" && status !== "failure") throw a.error(`report-snapshot status must be finish or failure, got ${status}`);
        return this.guard(() => n.node.reportSnapshot(peer, status));
      }
      case "read-index": {
        const n = this.get(a.id(0));
        const ctx = a.word(1);
        return this.guard(() => n.node.readIndex(encoder.encode(ctx)));
      }
      case "set-randomized-election-timeout": {
        const n = this.get(a.id(0));
        n.node.raft.randomizedElectionTimeout = a.intKey("timeout");
        return;
      }
      case "log-level":
        return this.setLogLevel(a.word(0), a);
      case "restart":
        return this.restart(a.id(0));
      case "set-log":
        return this.setLog(a.id(0), a.intList("terms"), a.optInt("term"), a);
      default:
        throw a.error(`unknown command ${JSON.stringify(cmd)}`);
    }
  }

  private get(id: number): EnvNode {
    const n = this.nodes[id - 1];
    if (!n) throw new Error(`no node ${id} (there are ${this.nodes.length})`);
    return n;
  }

  private allIds(): number[] {
    return this.nodes.map((n) => n.id);
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  private addNodes(a: Args): void {
    const count = a.int(0);
    const voters = a.intList("voters");
    const learners = a.intList("learners");
    const index = a.optInt("index") ?? 0;
    const content = a.optWord("content") ?? "";
    const readOnly = a.optWord("read-only") ?? "safe";
    if (readOnly !== "safe" && readOnly !== "lease-based") throw a.error(`invalid read-only option ${readOnly}`);
    if (index === 0 && content !== "") throw a.error("content= needs index= (it is the snapshot's data)");
    const seed = a.optInt("seed");
    for (let k = 0; k < count; k++) {
      const id = this.nodes.length + 1;
      const confState: ConfState = {
        voters: [...voters].sort((x, y) => x - y),
        learners: [...learners].sort((x, y) => x - y),
      };
      const storage = new EnvStorage();
      if (index > 0) {
        // Bootstrap from a snapshot at `index` (term 1), like a node restored from a backup.
        storage.applySnapshot({ data: encoder.encode(content), metadata: { index, term: 1, confState } });
      } else {
        storage.setConfState(confState);
      }
      const config: Config = {
        id,
        electionTick: ELECTION_TICK,
        heartbeatTick: HEARTBEAT_TICK,
        rand: seed === undefined ? NO_JITTER : new SeededRandom(seed * 1000 + id),
        preVote: a.optBool("prevote") ?? false,
        checkQuorum: a.optBool("checkquorum") ?? false,
        readOnlyOption: readOnly as ReadOnlyOption,
        maxInflightMsgs: a.optInt("max-inflight") ?? 256,
        maxInflightBytes: a.optInt("max-inflight-bytes") ?? 0,
        maxSizePerMsg: a.optInt("max-size-per-msg") ?? UNLIMITED,
        maxCommittedSizePerReady: a.optInt("max-committed-size-per-ready") ?? UNLIMITED,
        maxUncommittedEntriesSize: a.optInt("max-uncommitted-size") ?? 0,
        stepDownOnRemoval: a.optBool("step-down-on-removal") ?? true,
        disableProposalForwarding: a.optBool("disable-proposal-forwarding") ?? false,
        logger: this.nodeLogger,
      };
      const node = new RawNode(config, storage);
      const n: EnvNode = {
        id,
        node,
        storage,
        config,
        history: [{ index, term: index > 0 ? 1 : 0, data: content, confState }],
      };
      storage.latest = () => n.history[n.history.length - 1]!;
      this.nodes.push(n);
    }
  }

  private proposeConfChange(a: Args): void {
    const n = this.get(a.id(0));
    const tokens = a.positionals().slice(1);
    if (tokens.length === 0) throw a.error("propose-conf-change needs at least one change (v<id>, l<id> or r<id>)");
    for (const tok of tokens) {
      const m = /^([vlr])(\d+)$/.exec(tok);
      if (!m) throw a.error(`bad conf change ${JSON.stringify(tok)}: want v<id>, l<id> or r<id>`);
      const type =
        m[1] === "v" ? ConfChangeType.AddNode : m[1] === "l" ? ConfChangeType.AddLearnerNode : ConfChangeType.RemoveNode;
      this.guard(() => n.node.proposeConfChange({ type, nodeId: Number(m[2]), context: EMPTY_BYTES }));
    }
  }

  private tick(id: number, times: number): void {
    const n = this.get(id);
    for (let i = 0; i < times; i++) n.node.tick();
  }

  /** Deliver (or drop) the queued messages to each recipient in argument order. */
  private deliverMsgs(a: Args): void {
    const typeName = a.optWord("type");
    let type: number | undefined;
    if (typeName !== undefined) {
      type = (MessageType as Record<string, number>)[typeName];
      if (type === undefined) throw a.error(`unknown message type ${typeName}`);
    }
    let handled = 0;
    for (const arg of a.raw) {
      if (!arg.assigned) {
        handled += this.deliverTo(Number(arg.key), type, false, a);
      } else if (arg.key === "drop") {
        for (const v of arg.vals) handled += this.deliverTo(Number(v), type, true, a);
      }
    }
    if (handled === 0) this.write("no messages");
  }

  /** Take the queued messages to `to` (of `type`, if given) and step or drop them. */
  private deliverTo(to: number, type: number | undefined, drop: boolean, a: Args): number {
    if (!Number.isSafeInteger(to) || to <= 0) throw a.error(`bad node id ${to}`);
    const mine: Message[] = [];
    const rest: Message[] = [];
    for (const m of this.queue) (m.to === to && (type === undefined || m.type === type) ? mine : rest).push(m);
    this.queue = rest;
    for (const m of mine) {
      if (drop) {
        this.write(`dropped: ${describeMessage(m)}`);
        continue;
      }
      this.write(describeMessage(m));
      const n = this.get(to);
      this.guard(() => n.node.step(m));
    }
    return mine.length;
  }

  /** Handle one Ready of node `id` as a driver must (see the file comment). */
  private processReady(id: number): void {
    const n = this.get(id);
    const rd = n.node.ready();
    this.write(describeReady(rd));
    this.queue.push(...rd.messages);
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      const md = rd.snapshot.metadata;
      n.history.push({ index: md.index, term: md.term, data: decoder.decode(rd.snapshot.data), confState: md.confState });
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    this.queue.push(...rd.persistedMessages);
    for (const e of rd.committedEntries) {
      const prev = n.history[n.history.length - 1]!;
      let { data, confState } = prev;
      if (e.type === EntryType.EntryConfChange) {
        this.guard(() => {
          confState = n.node.applyConfChange(decodeConfChange(e.data));
          n.storage.setConfState(confState);
        });
      } else {
        data += decoder.decode(e.data);
      }
      n.history.push({ index: e.index, term: e.term, data, confState });
    }
    n.node.advance(rd);
  }

  /** Handle Readies and deliver messages among `ids` (default: all) until nothing changes. */
  private stabilize(ids: number[]): void {
    const set = ids.length > 0 ? ids : this.allIds();
    for (let round = 0; round < 10_000; round++) {
      let done = true;
      for (const id of set) {
        if (this.get(id).node.hasReady()) {
          this.write(`> ${id} handling Ready`);
          this.withIndent(() => this.processReady(id));
          done = false;
        }
      }
      for (const id of set) {
        if (this.queue.some((m) => m.to === id)) {
          this.write(`> ${id} receiving messages`);
          this.withIndent(() => this.deliverTo(id, undefined, false, new Args("stabilize", [], "")));
          done = false;
        }
      }
      if (done) return;
    }
    throw new Error("stabilize did not reach a fixed point in 10000 rounds");
  }

  /** The persisted log of a node (what its MemoryStorage holds). */
  private raftLog(id: number): void {
    const s = this.get(id).storage;
    const fi = s.firstIndex();
    const li = s.lastIndex();
    if (li < fi) {
      this.write(`log is empty: first index=${fi}, last index=${li}`);
      return;
    }
    this.write(describeEntries(s.entries(fi, li + 1)));
  }

  private raftState(): void {
    for (const n of this.nodes) {
      const r = n.node.raft;
      const role = r.trk.config.voters.has(n.id) ? "Voter" : r.trk.config.learners.has(n.id) ? "Learner" : "Non-Member";
      this.write(
        `${n.id}: ${r.state} (${role}) Term:${r.term} Vote:${r.vote} Lead:${r.lead} Commit:${r.raftLog.committed} Applied:${r.raftLog.applied}`,
      );
    }
  }

  private status(id: number): void {
    const st = this.get(id).node.status();
    const hs = st.hardState;
    let head =
      `${st.softState.raftState} Term:${hs.term} Vote:${hs.vote} Commit:${hs.commit} Lead:${st.softState.leaderId}` +
      ` Applied:${st.applied} Log:[${st.firstIndex}, ${st.lastIndex}] Voters:(${st.voters.join(" ")}) Learners:(${st.learners.join(" ")})`;
    if (st.leadTransferee !== 0) head += ` LeadTransferee:${st.leadTransferee}`;
    this.write(head);
    for (const p of st.progress) {
      let line = `${p.id}: ${p.state} match=${p.match} next=${p.next}`;
      if (p.isLearner) line += " learner";
      if (p.paused) line += " paused";
      if (p.pendingSnapshot > 0) line += ` pendingSnap=${p.pendingSnapshot}`;
      if (!p.recentActive) line += " inactive";
      if (p.inflightMessages > 0) line += ` inflight=${p.inflightMessages}`;
      if (p.inflightBytes > 0) line += ` inflightBytes=${p.inflightBytes}`;
      this.write(line);
    }
  }

  /** Cut a snapshot at `index` (which must be applied) and discard the log through it. */
  private compact(id: number, index: number): void {
    const n = this.get(id);
    const applied = n.history[n.history.length - 1]!.index;
    if (index > applied) throw new Error(`compact ${id} ${index}: only applied through ${applied}`);
    const st = n.history.find((h) => h.index === index);
    if (!st) throw new Error(`compact ${id} ${index}: no applied state recorded at ${index}`);
    this.guard(() => {
      n.storage.createSnapshot(index, st.confState, encoder.encode(st.data));
      n.storage.compact(index);
    });
    this.raftLog(id);
  }

  /** Queue a MsgSnapshot from `from` to `to` carrying from's latest applied state. */
  private sendSnapshot(from: number, to: number): void {
    const n = this.get(from);
    const snapshot = n.storage.snapshot();
    const m = newMessage({ type: MessageType.MsgSnapshot, from, to, term: n.node.raft.term, snapshot });
    this.queue.push(m);
    this.write(describeMessage(m));
  }

  private setLogLevel(level: string, a: Args): void {
    if (level === "none") {
      this.quiet = true;
      this.logger = discardLogger;
      return;
    }
    if (level !== "debug" && level !== "info" && level !== "warn" && level !== "error") {
      throw a.error(`unknown log level ${level}`);
    }
    this.quiet = false;
    this.logger = levelLogger(level, (line) => this.write(line));
  }

  /**
   * Crash and restart a node: a new RawNode over the same MemoryStorage. Everything handed
   * out in a Ready was persisted when it was handled; what the old RawNode held beyond that
   * (unsent messages, entries not yet in a Ready, volatile state) is lost. Messages already
   * in the network queue stay there, as they would on a real network.
   */
  private restart(id: number): void {
    const n = this.get(id);
    const applied = n.history[n.history.length - 1]!.index;
    n.node = new RawNode({ ...n.config, applied }, n.storage);
  }

  /**
   * Write a log of empty entries with the given terms after a fresh node's snapshot, set its
   * term (default: the last entry's) with no vote, and restart it over that storage. The
   * entries are uncommitted: the node's commit index stays at its snapshot.
   */
  private setLog(id: number, terms: number[], term: number | undefined, a: Args): void {
    const n = this.get(id);
    const s = n.storage;
    if (s.lastIndex() !== s.firstIndex() - 1) throw a.error(`node ${id} already has entries`);
    let prev = s.term(s.lastIndex());
    const first = s.firstIndex();
    const entries = terms.map((t, i) => {
      if (t < prev) throw a.error(`terms must not decrease (${t} after ${prev})`);
      prev = t;
      return { type: EntryType.EntryNormal, term: t, index: first + i, data: EMPTY_BYTES, context: EMPTY_BYTES };
    });
    s.append(entries);
    const hs = s.initialState().hardState;
    const newTerm = term ?? Math.max(hs.term, prev);
    if (newTerm < prev) throw a.error(`term=${newTerm} is below the last entry's term ${prev}`);
    s.setHardState({ term: newTerm, vote: 0, commit: hs.commit });
    this.restart(id);
    this.raftLog(id);
  }
}

/** Typed access to a command's arguments, with errors that point at the script line. */
class Args {
  constructor(
    readonly cmd: string,
    readonly raw: CmdArg[],
    readonly pos: string,
  ) {}

  error(msg: string): Error {
    return new Error(`${this.pos}: ${this.cmd}: ${msg}`);
  }

  positionals(): string[] {
    return positional({ args: this.raw });
  }

  has(i: number): boolean {
    return i < this.positionals().length;
  }

  word(i: number): string {
    const p = this.positionals();
    if (i >= p.length) throw this.error(`missing argument ${i + 1}`);
    return p[i]!;
  }

  int(i: number): number {
    return this.toInt(this.word(i), `argument ${i + 1}`);
  }

  id(i: number): number {
    const v = this.int(i);
    if (v <= 0) throw this.error(`bad node id ${v}`);
    return v;
  }

  /** All positional arguments as node ids. */
  ids(): number[] {
    return this.positionals().map((w) => this.toInt(w, "node id"));
  }

  private toInt(s: string, what: string): number {
    if (!/^\d+$/.test(s)) throw this.error(`${what} must be a non-negative integer, got ${JSON.stringify(s)}`);
    return Number(s);
  }

  optWord(key: string): string | undefined {
    const arg = findArg({ args: this.raw }, key);
    if (!arg) return undefined;
    if (arg.vals.length !== 1) throw this.error(`${key}= takes exactly one value`);
    return arg.vals[0]!;
  }

  optInt(key: string): number | undefined {
    const w = this.optWord(key);
    return w === undefined ? undefined : this.toInt(w, key);
  }

  intKey(key: string): number {
    const v = this.optInt(key);
    if (v === undefined) throw this.error(`missing ${key}=`);
    return v;
  }

  optBool(key: string): boolean | undefined {
    const w = this.optWord(key);
    if (w === undefined) return undefined;
    if (w !== "true" && w !== "false") throw this.error(`${key}= must be true or false`);
    return w === "true";
  }

  intList(key: string): number[] {
    const arg = findArg({ args: this.raw }, key);
    return arg ? arg.vals.map((v) => this.toInt(v, key)) : [];
  }
}
