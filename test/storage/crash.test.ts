// Crash safety of RocksStorage with real processes: a child (crash-child.ts) drives a
// RocksStorage, printing every acknowledged write only after it resolved, and the parent
// kills it with SIGKILL at a random instant, many times over, reopening the directory after
// each kill. After every kill:
//
// - the directory opens: RocksStorage.open's own validation finds no torn batch (entries
//   contiguous, last_index matching the entries, uncommit range = (commit, last], commit <=
//   last, applied <= commit);
// - every acknowledged write is there: the hard state's term and commit are at least the
//   acknowledged ones, the applied index at least the acknowledged one, every entry up to
//   the acknowledged commit has the acknowledged term, and the acknowledged uncommitted
//   entries are there too unless a later (unacknowledged) write of a higher term replaced them;
// - effects and applied index agree: table "log" holds exactly the keys 1..applied, each with
//   the data of its entry, and table "meta" holds that same applied index (one batch).
//
// Four directories ("lanes") run side by side to keep the wall time down on a busy machine;
// the total time is bounded. STORAGE_CRASH_SEED=<n> replays a run; the seed is in every
// failure message.

import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { RocksStorage } from "../../runtime/storage/index.js";
import { cleanupDirs, tempDir, text } from "./helpers.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const CHILD = path.join(HERE, "crash-child.ts");
const LANES = 4;
const ROUNDS_PER_LANE = 5;
/** Stop starting new rounds after this long (a busy machine starts tsx slowly). */
const BUDGET_MS = 25_000;

afterAll(cleanupDirs);

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface RoundResult {
  lines: string[];
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  readyAt: boolean;
}

/** Start the child, kill it `delayMs` after it said ready, and collect everything it printed. */
function runChild(dir: string, seed: number, delayMs: number): Promise<RoundResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(seed)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let stderr = "";
    let ready = false;
    const startTimeout = setTimeout(() => child.kill("SIGKILL"), 25_000);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      out += d;
      if (!ready && out.includes("\n") && out.startsWith("ready ")) {
        ready = true;
        clearTimeout(startTimeout);
        setTimeout(() => child.kill("SIGKILL"), delayMs);
      }
    });
    child.stderr.on("data", (d: string) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(startTimeout);
      resolve({ lines: out.split("\n").filter((l) => l.length > 0), stderr, code, signal, readyAt: ready });
    });
  });
}

/** What the parent knows is durable: the log (index -> term) and the acknowledged maxima. */
interface Model {
  first: number;
  terms: Map<number, number>;
  last: number;
  term: number;
  commit: number;
  applied: number;
}

async function modelOf(dir: string): Promise<Model> {
  const s = await RocksStorage.open(dir, { clusterId: "crash", nodeId: 1 });
  try {
    const terms = new Map<number, number>();
    for (let i = s.firstIndex(); i <= s.lastIndex(); i++) terms.set(i, s.term(i));
    const hs = s.hardState();
    return { first: s.firstIndex(), terms, last: s.lastIndex(), term: hs.term, commit: hs.commit, applied: s.appliedIndex() };
  } finally {
    await s.close();
  }
}

/** Fold the child's acknowledgements into the model. */
function acknowledge(m: Model, lines: string[], ctx: string): { acks: number } {
  let acks = 0;
  for (const line of lines) {
    const [tag, ...nums] = line.split(" ");
    const n = nums.map(Number);
    if (tag === "ready") continue;
    acks++;
    if (tag === "P") {
      const [from, to, term, commit] = n as [number, number, number, number];
      if (from <= to) {
        for (let i = from; i <= m.last; i++) m.terms.delete(i);
        for (let i = from; i <= to; i++) m.terms.set(i, term);
        m.last = to;
      }
      m.term = Math.max(m.term, term);
      m.commit = Math.max(m.commit, commit);
    } else if (tag === "A") {
      m.applied = Math.max(m.applied, n[0]!);
    } else if (tag === "S") {
      // Snapshots and compactions only drop entries the model no longer needs to compare.
    } else {
      throw new Error(`${ctx}: unexpected line from the child: ${JSON.stringify(line)}`);
    }
  }
  return { acks };
}

/** Reopen after a kill and check it against the acknowledged model. */
async function verify(dir: string, m: Model, ctx: string): Promise<void> {
  // Opening runs the full start-up validation (no torn batch, ranges consistent).
  const s = await RocksStorage.open(dir, { clusterId: "crash", nodeId: 1 });
  try {
    const hs = s.hardState();
    expect(hs.term, `${ctx}: term`).toBeGreaterThanOrEqual(m.term);
    expect(hs.commit, `${ctx}: commit`).toBeGreaterThanOrEqual(m.commit);
    expect(hs.commit, `${ctx}: commit <= last`).toBeLessThanOrEqual(s.lastIndex());
    expect(s.appliedIndex(), `${ctx}: applied`).toBeGreaterThanOrEqual(m.applied);
    expect(s.appliedIndex(), `${ctx}: applied <= commit`).toBeLessThanOrEqual(hs.commit);
    expect(s.uncommittedRange(), `${ctx}: uncommit range`).toEqual({ commit: hs.commit, last: s.lastIndex() });

    // Committed acknowledged entries: exactly as acknowledged.
    const lo = Math.max(s.firstIndex(), m.first);
    for (let i = lo; i <= m.commit; i++) {
      const e = s.entries(i, i + 1)[0]!;
      expect(e.term, `${ctx}: term of committed entry ${i}`).toBe(m.terms.get(i));
      expect(text(e.data).startsWith(`${i}@${e.term}|`), `${ctx}: data of entry ${i}`).toBe(true);
    }
    // Uncommitted acknowledged entries: there, unless replaced by a later write of a higher term.
    let mismatch: number | undefined;
    for (let i = Math.max(lo, m.commit + 1); i <= Math.min(m.last, s.lastIndex()); i++) {
      if (s.term(i) !== m.terms.get(i)) {
        mismatch = i;
        break;
      }
    }
    if (mismatch === undefined) {
      expect(s.lastIndex(), `${ctx}: acknowledged entries up to ${m.last} lost`).toBeGreaterThanOrEqual(m.last);
    } else {
      expect(s.term(mismatch), `${ctx}: entry ${mismatch} replaced by a lower term`).toBeGreaterThan(m.terms.get(mismatch)!);
    }

    // Effects and applied index: one batch.
    const applied = s.appliedIndex();
    const keys: bigint[] = [];
    for await (const row of s.scan("log")) {
      keys.push(row.key as bigint);
      const i = Number(row.key);
      expect(text(row.value).startsWith(`${i}@`), `${ctx}: log[${i}]`).toBe(true);
      if (i >= s.firstIndex()) expect(text(row.value), `${ctx}: log[${i}] = entry ${i}`).toBe(text(s.entries(i, i + 1)[0]!.data));
    }
    expect(keys.length, `${ctx}: table log holds 1..${applied}`).toBe(applied);
    expect(keys.every((k, j) => k === BigInt(j + 1)), `${ctx}: table log keys`).toBe(true);
    const meta = await s.get("meta", "applied");
    expect(meta === undefined ? 0 : Number(text(meta)), `${ctx}: meta.applied`).toBe(applied);
  } finally {
    await s.close();
  }
}

describe("crash safety (kill -9)", () => {
  it("loses no acknowledged write and tears no batch across repeated SIGKILLs", async () => {
    const seed = Number(process.env.STORAGE_CRASH_SEED ?? Date.now() % 2 ** 31);
    const started = Date.now();
    const stats = { rounds: 0, acks: 0, killedMidRun: 0 };
    let failed = false;

    async function lane(laneNo: number): Promise<void> {
      const rand = prng(seed + laneNo * 7919);
      const dir = await tempDir("raftgen-crash-");
      const boot = await RocksStorage.open(dir, { clusterId: "crash", nodeId: 1, create: true, initialConfState: { voters: [1], learners: [] } });
      await boot.close();
      for (let round = 0; round < ROUNDS_PER_LANE && !failed && Date.now() - started < BUDGET_MS; round++) {
        const ctx = `seed ${seed} lane ${laneNo} round ${round}`;
        const model = await modelOf(dir);
        const delayMs = 10 + Math.floor(rand() * 300);
        const r = await runChild(dir, Math.floor(rand() * 2 ** 31), delayMs);
        if (r.signal !== "SIGKILL") throw new Error(`${ctx}: the child exited by itself (code ${r.code}):\n${r.stderr}`);
        expect(r.readyAt, `${ctx}: the child never became ready:\n${r.stderr}`).toBe(true);
        const { acks } = acknowledge(model, r.lines, ctx);
        stats.rounds++;
        stats.acks += acks;
        if (acks > 0) stats.killedMidRun++;
        await verify(dir, model, ctx);
      }
    }

    // Wait for every lane (no child left running when the test ends); the first failure stops
    // the other lanes at their next round and is the one reported.
    const results = await Promise.allSettled(
      Array.from({ length: LANES }, (_, i) =>
        lane(i).catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    const firstFailure = results.find((r) => r.status === "rejected");
    if (firstFailure) throw firstFailure.reason;
    console.info(
      `crash test: seed ${seed}, ${stats.rounds} kills, ${stats.acks} acknowledged writes checked, ` +
        `${stats.killedMidRun} kills during writes, ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    expect(stats.rounds).toBeGreaterThanOrEqual(8);
    expect(stats.killedMidRun).toBeGreaterThan(0);
  }, 60_000);
});
