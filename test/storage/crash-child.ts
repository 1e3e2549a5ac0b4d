// The child process of test/storage/crash.test.ts: it plays a node's driver against a
// RocksStorage until the parent kills it with SIGKILL at a random instant.
//
// Run as `node --import tsx test/storage/crash-child.ts <dir> <seed>` (tsx 4 registers its ESM
// loader through `--import tsx`). Each start is a new "epoch" (a new leader term): the first
// write replaces the uncommitted suffix of the log with entries of the new term, as a new
// leader's append would; after that it only appends. In a loop it persists Readies (entries +
// hard state) and, concurrently, applies committed entries (a put of each entry's data into
// table "log", the applied index into table "meta", sometimes a session), and now and then
// snapshots and compacts. It prints one line to stdout per acknowledged write, only AFTER the
// write's promise resolved (stdout to a pipe is synchronous on Linux, so a printed line has
// left the process before the next write starts):
//
//   ready <term> <first> <last> <commit> <applied>
//   P <from> <to> <term> <commit>      entries [from, to] (none when from > to) and hard state
//   A <applied>                        an apply batch through <applied>
//   S <snapshot index> <compact index>
//
// Entry i of term t carries the data "<i>@<t>|" plus random padding.

import { RocksStorage, type StateOp } from "../../runtime/storage/index.js";
import type { Entry } from "../../runtime/raft/types.js";

const [dir, seedArg] = process.argv.slice(2);
if (dir === undefined || seedArg === undefined) {
  process.stderr.write("usage: crash-child.ts <dir> <seed>\n");
  process.exit(2);
}

// mulberry32: a small seeded PRNG, so a failing run can be replayed from its seed.
let seed = Number(seedArg) >>> 0;
function rand(): number {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const randInt = (n: number) => Math.floor(rand() * n);

const enc = new TextEncoder();
const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) {
    out.push({ type: 0, term, index: i, data: enc.encode(`${i}@${term}|${"x".repeat(randInt(300))}`), context: new Uint8Array(0) });
  }
  return out;
}

const cs = { voters: [1], learners: [] };
const s = await RocksStorage.open(dir, { clusterId: "crash", nodeId: 1 });
const term = s.hardState().term + 1;
let last = s.lastIndex();
let commit = s.hardState().commit;
let applied = s.appliedIndex();
say(`ready ${term} ${s.firstIndex()} ${last} ${commit} ${applied}`);

// A new leader's first append: replace the uncommitted suffix (if any) with the new term.
{
  const from = commit + 1;
  const to = last > commit ? from + randInt(4) : from - 1;
  await s.persistReady({ entries: to >= from ? entries(from, to, term) : [], hardState: { term, vote: 1, commit } });
  last = to >= from ? to : last;
  say(`P ${from} ${to} ${term} ${commit}`);
}

for (;;) {
  const jobs: Promise<void>[] = [];
  // Apply what is already committed, queued behind nothing or behind the persist below: the
  // storage runs writes one at a time in call order.
  if (applied < commit) {
    const to = Math.min(commit, applied + 1 + randInt(8));
    const ops: StateOp[] = [];
    for (const e of s.entries(applied + 1, to + 1)) ops.push({ type: "put", table: "log", key: e.index, value: e.data });
    ops.push({ type: "put", table: "meta", key: "applied", value: enc.encode(String(to)) });
    if (randInt(4) === 0) ops.push({ type: "putSession", clientId: `client-${randInt(3)}`, session: { lastSequence: to, reply: enc.encode(`r${to}`) } });
    applied = to;
    jobs.push(s.applyBatch(ops, to).then(() => say(`A ${to}`)));
  }
  const from = last + 1;
  const to = from + randInt(6);
  const newCommit = Math.min(to, commit + randInt(to - from + 3));
  jobs.push(s.persistReady({ entries: entries(from, to, term), hardState: { term, vote: 1, commit: newCommit } }).then(() => say(`P ${from} ${to} ${term} ${newCommit}`)));
  last = to;
  commit = newCommit;
  await Promise.all(jobs);
  if (randInt(20) === 0 && applied > s.snapshotMetadata().index) {
    const at = applied;
    await s.createSnapshot(at, cs);
    const compactAt = Math.max(s.firstIndex(), at - randInt(3));
    if (compactAt <= at && compactAt >= s.firstIndex()) await s.compact(compactAt);
    say(`S ${at} ${compactAt}`);
  }
}
