// Turning spec issues into text a user reads, and the "did you mean" suggestions they carry.
//
// `formatIssues` prints one `file:LINE:COL: message` line per issue (1-based line and column of
// the issue's range start, columns in UTF-16 code units as the `yaml` package counts offsets),
// sorted by position and then by message so that the output is the same for the same spec.
// `suggest` picks the closest candidate by Damerau-Levenshtein distance (optimal string
// alignment), or nothing when no candidate is close enough to be a plausible typo.
//
// This module is pure: it never reads files, never prints, and never throws on any issue list
// (an offset outside the text is clamped to it).

import type { Issue } from "./spec.js";

/** A 1-based line and column. */
export interface LineCol {
  readonly line: number;
  readonly col: number;
}

/** Offsets at which each line of `text` starts (line 1 starts at 0). */
function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf("\n"); i !== -1; i = text.indexOf("\n", i + 1)) starts.push(i + 1);
  return starts;
}

function lineColIn(starts: readonly number[], textLength: number, offset: number): LineCol {
  const at = Math.max(0, Math.min(Number.isFinite(offset) ? Math.floor(offset) : 0, textLength));
  // The last line start <= at.
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= at) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, col: at - starts[lo]! + 1 };
}

/** The 1-based line and column of an offset into `text`. */
export function lineCol(text: string, offset: number): LineCol {
  return lineColIn(lineStarts(text), text.length, offset);
}

/** Issues in output order: by range start, then message (code-unit order), then code; exact repeats dropped. */
export function sortIssues(issues: readonly Issue[]): Issue[] {
  const sorted = [...issues].sort(
    (a, b) =>
      a.range.start - b.range.start ||
      (a.message < b.message ? -1 : a.message > b.message ? 1 : 0) ||
      (a.code < b.code ? -1 : a.code > b.code ? 1 : 0),
  );
  return sorted.filter(
    (issue, i) =>
      i === 0 ||
      issue.range.start !== sorted[i - 1]!.range.start ||
      issue.message !== sorted[i - 1]!.message ||
      issue.code !== sorted[i - 1]!.code,
  );
}

/**
 * One `file:LINE:COL: message` line per issue, each ending with a newline (the empty string
 * for no issues). `file` is printed as given (the CLI passes the path the user typed).
 */
export function formatIssues(issues: readonly Issue[], file: string, text: string): string {
  const starts = lineStarts(text);
  return sortIssues(issues)
    .map((issue) => {
      const { line, col } = lineColIn(starts, text.length, issue.range.start);
      return `${file}:${line}:${col}: ${issue.message}\n`;
    })
    .join("");
}

/** A path as the messages spell it: `commands.set.input.key`, `types.Status.enum[1]`. */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const seg of path) {
    if (typeof seg === "number") out += `[${seg}]`;
    else out += out === "" ? seg : `.${seg}`;
  }
  return out;
}

/**
 * Edit distance with adjacent transpositions counted as one edit (optimal string alignment):
 * `dco` -> `doc` is 1, `optinal` -> `optional` is 1.
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  let prevPrev: number[] = new Array<number>(b.length + 1).fill(0);
  let prev: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  let cur: number[] = new Array<number>(b.length + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prevPrev[j - 2]! + 1);
      cur[j] = d;
    }
    [prevPrev, prev, cur] = [prev, cur, prevPrev];
  }
  return prev[b.length]!;
}

/**
 * The candidate closest to `word`, if it is a plausible typo of it: at most one edit for words
 * of up to 3 characters, else at most max(2, a third of the length), and fewer edits than either
 * word has characters. Case differences are free (`String` -> `string`), then break ties.
 * Remaining ties go to the candidate first in code-unit order, so the answer never depends on
 * the order of `candidates`. Never suggests `word` itself.
 */
export function suggest(word: string, candidates: Iterable<string>): string | undefined {
  const limit = word.length <= 3 ? 1 : Math.max(2, Math.floor(word.length / 3));
  const lower = word.toLowerCase();
  let best: { cand: string; folded: number; exact: number } | undefined;
  for (const cand of candidates) {
    if (cand === word || Math.abs(cand.length - word.length) > limit) continue;
    const folded = editDistance(lower, cand.toLowerCase());
    if (folded > limit || folded >= word.length || folded >= cand.length) continue;
    const exact = editDistance(word, cand);
    if (
      best === undefined ||
      folded < best.folded ||
      (folded === best.folded && (exact < best.exact || (exact === best.exact && cand < best.cand)))
    ) {
      best = { cand, folded, exact };
    }
  }
  return best?.cand;
}
