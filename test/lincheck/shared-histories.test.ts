// The checker against every history in ../shared/linearizability (Jepsen etcd register runs
// and porcupine's kv histories), each with a verdict established by porcupine, Knossos and an
// independent re-check (see that folder's README). One test per file, plus the parse-level
// facts the README states (operation and indeterminate counts) and a timing bound on the
// whole set.

import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  checkHistory,
  checkOperations,
  kvModel,
  parseHistory,
  registerModel,
  type AnyModel,
  type Operation,
} from "../../runtime/testing/lincheck/index.js";
import { readManifest, sharedPath, type ManifestEntry } from "./shared-data.js";

const manifest = readManifest();
const models: Record<ManifestEntry["model"], AnyModel> = { register: registerModel, kv: kvModel };

function check(entry: ManifestEntry) {
  const records = parseHistory(readFileSync(sharedPath(entry.file), "utf8"), entry.format);
  return { records, result: checkHistory(models[entry.model], records, { timeoutMs: 30_000 }) };
}

describe("shared linearizability histories", () => {
  it("has the documented number of histories", () => {
    expect(manifest.length).toBeGreaterThan(0);
    expect(manifest.filter((e) => e.model === "register").length + manifest.filter((e) => e.model === "kv").length).toBe(
      manifest.length,
    );
  });

  for (const entry of manifest) {
    const want = entry.linearizable ? "linearizable" : "not-linearizable";
    it(`${entry.file} is ${want.replace("-", " ")}`, () => {
      const { records, result } = check(entry);
      // The README's counts: `ops` invocations, `indeterminate` of them ended in :info.
      expect(records.length).toBe(entry.ops);
      expect(records.filter((r) => r.outcome === "info").length).toBe(entry.indeterminate);
      expect(result.verdict).toBe(want);
      if (!entry.linearizable) expect(result.failed?.failure).toBeDefined();
    });
  }

  it("decides the whole set in well under 60 s", () => {
    const started = performance.now();
    for (const entry of manifest) {
      const { result } = check(entry);
      expect(result.verdict).not.toBe("unknown");
    }
    expect(performance.now() - started).toBeLessThan(60_000);
  });
});

/**
 * The history restricted to what had happened by time `t`: operations invoked before `t`;
 * those that had not returned by `t` (strictly) become indeterminate, as at the end of a file.
 */
function prefixBefore<I, O>(ops: readonly Operation<I, O>[], t: number, inclusive: boolean): Operation<I, O>[] {
  return ops
    .filter((o) => o.call < t)
    .map((o) =>
      o.return < t || (inclusive && o.return === t) ? o : { ...o, return: Infinity, output: undefined },
    );
}

describe("failure explanations name the shortest non-linearizable prefix", () => {
  // For every failing history: the prefix ending with the stuck operation's return has no
  // linearization, and the prefix just before that return has one.
  for (const entry of manifest.filter((e) => !e.linearizable)) {
    it(entry.file, () => {
      const model = models[entry.model];
      const records = parseHistory(readFileSync(sharedPath(entry.file), "utf8"), entry.format);
      const { failed } = checkHistory(model, records, { timeoutMs: 30_000 });
      const failure = failed!.failure!;
      const ops = records
        .map((r) => model.fromHistory!(r) as Operation<unknown, unknown> | undefined)
        .filter((o): o is Operation<unknown, unknown> => o !== undefined)
        .filter((o) => model.partition === undefined || model.partition(o.input) === failed!.key);
      const t = failure.stuck.return;
      expect(checkOperations(model, prefixBefore(ops, t, true), { timeoutMs: 30_000 }).verdict).toBe(
        "not-linearizable",
      );
      expect(checkOperations(model, prefixBefore(ops, t, false), { timeoutMs: 30_000 }).verdict).toBe("linearizable");
      // Every operation that returned before the stuck one is in the partial linearization.
      // (fromHistory makes new objects on each call, so compare by call time.)
      const inLin = new Set(failure.linearized.map((o) => o.call));
      for (const o of ops) if (o.return < t) expect(inLin.has(o.call)).toBe(true);
    });
  }
});
