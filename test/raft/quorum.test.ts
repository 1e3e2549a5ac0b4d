// Datadriven tests of runtime/raft/quorum/majority.ts (STYLE 7.10): test/raft/testdata/quorum/*.txt.
//
//   committed voters=(1,2,3) acked=(1:5, 2:3, 3:0)   -> the index a majority has acknowledged
//   vote voters=(1,2,3) votes=(1:y, 2:n)             -> Won | Lost | Pending
//
// Voters missing from acked= count as having acknowledged 0 (and missing from votes= as not
// having answered); entries for ids that are not voters are ignored. Every answer is also
// checked against a naive model (try every candidate index and count; count the votes), so a
// wrong expected output cannot hide a wrong implementation. Raft §5.3 (commit by majority) and
// §5.2 (election by majority).

import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { committedIndex, voteResult, type VoteResult } from "../../runtime/raft/index.js";
import { findArg, type TestCase } from "./datadriven/parser.js";
import { runDataDrivenFile } from "./datadriven/runner.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "testdata", "quorum");

function ids(c: TestCase, key: string): number[] {
  const arg = findArg(c, key);
  if (!arg) throw new Error(`${c.pos}: missing ${key}=`);
  return arg.vals.map((v) => {
    if (!/^\d+$/.test(v)) throw new Error(`${c.pos}: bad id ${v} in ${key}=`);
    return Number(v);
  });
}

/** Parse `key=(id:value, ...)` into a map; `value` is parsed by `parse`. */
function pairs<T>(c: TestCase, key: string, parse: (s: string) => T): Map<number, T> {
  const out = new Map<number, T>();
  for (const item of findArg(c, key)?.vals ?? []) {
    const m = /^(\d+):(\S+)$/.exec(item);
    if (!m) throw new Error(`${c.pos}: bad ${key} item ${JSON.stringify(item)}, want id:value`);
    out.set(Number(m[1]), parse(m[2]!));
  }
  return out;
}

/** The largest index acknowledged by a majority, by brute force. */
function naiveCommitted(voters: number[], acked: Map<number, number>): number {
  if (voters.length === 0) return Number.POSITIVE_INFINITY;
  const q = Math.floor(voters.length / 2) + 1;
  let best = 0;
  for (const cand of [0, ...voters.map((v) => acked.get(v) ?? 0)]) {
    const n = voters.filter((v) => (acked.get(v) ?? 0) >= cand).length;
    if (n >= q && cand > best) best = cand;
  }
  return best;
}

function naiveVote(voters: number[], votes: Map<number, boolean>): VoteResult {
  if (voters.length === 0) return "Won";
  const q = Math.floor(voters.length / 2) + 1;
  const yes = voters.filter((v) => votes.get(v) === true).length;
  const no = voters.filter((v) => votes.get(v) === false).length;
  if (yes >= q) return "Won";
  if (voters.length - no >= q) return "Pending";
  return "Lost";
}

function handle(c: TestCase): string {
  switch (c.cmd) {
    case "committed": {
      const voters = ids(c, "voters");
      const acked = pairs(c, "acked", (s) => {
        if (!/^\d+$/.test(s)) throw new Error(`${c.pos}: bad index ${s}`);
        return Number(s);
      });
      const got = committedIndex(voters, (id) => acked.get(id));
      const want = naiveCommitted(voters, acked);
      if (got !== want) throw new Error(`${c.pos}: committedIndex says ${got}, the naive model ${want}`);
      return Number.isFinite(got) ? String(got) : "∞ (no voters: an empty configuration commits anything)";
    }
    case "vote": {
      const voters = ids(c, "voters");
      const votes = pairs(c, "votes", (s) => {
        if (s !== "y" && s !== "n") throw new Error(`${c.pos}: vote must be y or n, got ${s}`);
        return s === "y";
      });
      const got = voteResult(voters, votes);
      const want = naiveVote(voters, votes);
      if (got !== want) throw new Error(`${c.pos}: voteResult says ${got}, the naive model ${want}`);
      return got;
    }
    default:
      throw new Error(`${c.pos}: unknown command ${c.cmd}`);
  }
}

describe("quorum datadriven", () => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort();
  it("has scripts", () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(f, () => {
      expect(runDataDrivenFile(join(dir, f), handle)).toBeGreaterThan(0);
    });
  }
});
