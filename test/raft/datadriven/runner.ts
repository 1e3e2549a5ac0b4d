// Runs one datadriven file (see parser.ts) inside a vitest test.
//
// Each case goes through `handler(case)`, which returns the actual output. Normally the
// output is compared with the expected block using vitest's `expect`, so a mismatch fails
// with a diff and the `file:line` of the case. With REWRITE=1 in the environment nothing is
// compared: the file is rewritten in place with the actual outputs (comments, prose and
// commands untouched), for a human to review with `git diff` before keeping it.
//
// A handler that throws fails the test at that case (its file:line is added to the message)
// and, under REWRITE=1, leaves the file as it was.

import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { expect } from "vitest";
import { normalizeOutput, parseDataDriven, rewriteDataDriven, type TestCase } from "./parser.js";

/** Turns one case into its actual output. */
export type DataDrivenHandler = (c: TestCase) => string;

/** Whether REWRITE=1 asks for expected outputs to be regenerated. */
export function rewriteRequested(): boolean {
  return process.env.REWRITE === "1";
}

/**
 * Parse `path`, run every case through `handler` in order, and check (or, with REWRITE=1,
 * rewrite) the expected outputs. Returns the number of cases run.
 */
export function runDataDrivenFile(path: string, handler: DataDrivenHandler): number {
  const name = relative(process.cwd(), path) || path;
  const text = readFileSync(path, "utf8");
  const cases = parseDataDriven(text, name);
  const rewrite = rewriteRequested();
  const actuals: string[] = [];
  for (const c of cases) {
    let actual: string;
    try {
      actual = normalizeOutput(handler(c));
    } catch (err) {
      const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
      throw new Error(`${c.pos}: ${c.cmdLine}\n  ${msg}`, { cause: err });
    }
    if (rewrite) {
      actuals.push(actual);
    } else {
      expect(actual, `${c.pos}: output of "${c.cmdLine}" differs (run with REWRITE=1 to regenerate)`).toBe(
        normalizeOutput(c.expected),
      );
    }
  }
  if (rewrite) {
    const updated = rewriteDataDriven(text, cases, actuals);
    if (updated !== text) writeFileSync(path, updated);
  }
  return cases.length;
}
