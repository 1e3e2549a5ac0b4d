// Datadriven tests of runtime/raft/confchange/changer.ts (STYLE 7.10):
// test/raft/testdata/confchange/*.txt.
//
//   init voters=(1,2,3) learners=(4) [last-index=<n>]   -> start from this configuration
//   apply [last-index=<n>] v4 l5 r1 ...                   -> apply single-step changes in order
//   ack 3:11 4:7                                          -> members acknowledge indexes (match)
//
// v = AddNode (add a voter or promote a learner), l = AddLearnerNode, r = RemoveNode. Each
// step prints the resulting configuration, or why it was refused (then the configuration is
// unchanged); the progress of every member follows. The handler also checks that a step never
// mutates the configuration or progress map it started from (applyChange returns new ones),
// and that a refused step leaves the tracker exactly as it was. Raft thesis §4.1 (one server
// at a time).

import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { applyChange, restoreConfig } from "../../runtime/raft/confchange/changer.js";
import { ConfChangeType, EMPTY_BYTES, RaftError } from "../../runtime/raft/index.js";
import { ProgressTracker } from "../../runtime/raft/tracker/progress-tracker.js";
import { findArg, positional, type TestCase } from "./datadriven/parser.js";
import { runDataDrivenFile } from "./datadriven/runner.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "testdata", "confchange");

/** A stable text of a tracker: its configuration and every member's progress. */
function describeTracker(t: ProgressTracker): string {
  const lines = [`voters=(${t.voterIds().join(" ")}) learners=(${t.learnerIds().join(" ")})`];
  t.visit((id, pr) => lines.push(`${id}: ${pr.toString()}`));
  return lines.join("\n");
}

/** Everything observable of a tracker, to detect mutation. */
function fingerprint(t: ProgressTracker): string {
  const progress = [...t.progress.entries()].map(([id, pr]) => `${id}:${JSON.stringify(pr)}:${pr.toString()}`);
  return JSON.stringify({ voters: [...t.config.voters], learners: [...t.config.learners], progress });
}

function ids(c: TestCase, key: string): number[] {
  return (findArg(c, key)?.vals ?? []).map((v) => {
    if (!/^\d+$/.test(v)) throw new Error(`${c.pos}: bad id ${v} in ${key}=`);
    return Number(v);
  });
}

function lastIndex(c: TestCase): number {
  const v = findArg(c, "last-index")?.vals[0];
  if (v === undefined) return 0;
  if (!/^\d+$/.test(v)) throw new Error(`${c.pos}: bad last-index ${v}`);
  return Number(v);
}

class ConfChangeEnv {
  private tracker: ProgressTracker | undefined;

  handle(c: TestCase): string {
    switch (c.cmd) {
      case "init": {
        const t = new ProgressTracker(256, 0);
        const restored = restoreConfig(t, { voters: ids(c, "voters"), learners: ids(c, "learners") }, lastIndex(c) + 1);
        t.config = restored.config;
        t.progress = restored.progress;
        this.tracker = t;
        return describeTracker(t);
      }
      case "apply": {
        const t = this.tracker;
        if (!t) throw new Error(`${c.pos}: apply before init`);
        const li = lastIndex(c);
        const out: string[] = [];
        for (const tok of positional(c)) {
          const m = /^([vlr])(\d+)$/.exec(tok);
          if (!m) throw new Error(`${c.pos}: bad change ${JSON.stringify(tok)}, want v<id>, l<id> or r<id>`);
          const type =
            m[1] === "v" ? ConfChangeType.AddNode : m[1] === "l" ? ConfChangeType.AddLearnerNode : ConfChangeType.RemoveNode;
          const before = fingerprint(t);
          try {
            const res = applyChange(t, { type, nodeId: Number(m[2]), context: EMPTY_BYTES }, li);
            if (fingerprint(t) !== before) throw new Error(`${c.pos}: ${tok} mutated the tracker it was given`);
            t.config = res.config;
            t.progress = res.progress;
            out.push(`${tok}: voters=(${t.voterIds().join(" ")}) learners=(${t.learnerIds().join(" ")})`);
          } catch (err) {
            if (!(err instanceof RaftError)) throw err;
            if (fingerprint(t) !== before) throw new Error(`${c.pos}: refused ${tok} changed the tracker`);
            out.push(`${tok}: refused (${err.code}: ${err.message})`);
          }
        }
        out.push(describeTracker(t));
        return out.join("\n");
      }
      case "ack": {
        const t = this.tracker;
        if (!t) throw new Error(`${c.pos}: ack before init`);
        for (const tok of positional(c)) {
          const m = /^(\d+):(\d+)$/.exec(tok);
          if (!m) throw new Error(`${c.pos}: bad ack ${JSON.stringify(tok)}, want id:index`);
          const pr = t.progress.get(Number(m[1]));
          if (!pr) throw new Error(`${c.pos}: ${m[1]} is not a member`);
          pr.maybeUpdate(Number(m[2]));
        }
        return describeTracker(t);
      }
      default:
        throw new Error(`${c.pos}: unknown command ${c.cmd}`);
    }
  }
}

describe("confchange datadriven", () => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".txt"))
    .sort();
  it("has scripts", () => expect(files.length).toBeGreaterThan(0));
  for (const f of files) {
    it(f, () => {
      const env = new ConfChangeEnv();
      expect(runDataDrivenFile(join(dir, f), (c) => env.handle(c))).toBeGreaterThan(0);
    });
  }
});
