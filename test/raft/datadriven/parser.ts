// A small parser and writer for the "datadriven" test file format (as used by
// cockroachdb/datadriven and etcd-io/raft's testdata), written for our vitest suites.
//
// A file is a sequence of test cases separated by blank lines. Lines starting with `#` between
// cases are comments (prose). A case is:
//
//   cmd arg1 key=val key=(v1, v2) "quoted arg"     <- command line; a trailing `\` continues it
//   optional input lines                           <- anything up to the separator
//   ----
//   expected output, up to the first blank line (or the end of the file)
//
// Output that contains blank lines uses the doubled separator form:
//
//   cmd
//   ----
//   ----
//   output with
//
//   blank lines
//   ----
//   ----
//
// Every case keeps its source line so that failures point at `file:line`. The writer
// (rewriteDataDriven) replaces only the expected-output blocks, leaving comments, prose and
// commands byte for byte as they were; the runner uses it for REWRITE=1.
//
// This file does no I/O: runner.ts reads and writes files.

/** One argument of a command line: `key`, `key=val` or `key=(v1, v2, ...)`. */
export interface CmdArg {
  key: string;
  /** The values; empty for a bare `key` (and for `key=()`). */
  vals: string[];
  /** Whether the word had an `=` (false for positional words such as a node id). */
  assigned: boolean;
}

/** One test case of a datadriven file. */
export interface TestCase {
  /** The file name as given to the parser (for messages). */
  file: string;
  /** 1-based line number of the command line. */
  line: number;
  /** `file:line`, for error messages. */
  pos: string;
  /** The command line as written (continuations joined with a space). */
  cmdLine: string;
  /** The command: the first word of the command line. */
  cmd: string;
  /** The arguments after the command, in order. */
  args: CmdArg[];
  /** Lines between the command line and the separator, joined with "\n" ("" if none). */
  input: string;
  /** The expected output, without the trailing newline. */
  expected: string;
  /** 0-based index of the (first) `----` separator line. */
  sepIndex: number;
  /** 0-based index one past the last line of the expected-output block (separators included). */
  blockEnd: number;
}

/** A parse error carrying the file:line it refers to. */
export class DataDrivenParseError extends Error {
  override readonly name = "DataDrivenParseError";
}

const SEPARATOR = "----";

/** Split `text` into lines; a final newline does not start an extra line. */
function splitLines(text: string): string[] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  return lines.map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l));
}

/**
 * Split a command line into words. Whitespace separates words, except inside parentheses
 * and double quotes; quotes are kept here and removed by unquote().
 */
function splitWords(s: string, pos: string): string[] {
  const words: string[] = [];
  let cur = "";
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch === '"') {
      let j = i + 1;
      for (; j < s.length && s[j] !== '"'; j++) if (s[j] === "\\") j++;
      if (j >= s.length) throw new DataDrivenParseError(`${pos}: unterminated quote in ${JSON.stringify(s)}`);
      cur += s.slice(i, j + 1);
      i = j;
      continue;
    }
    if (ch === "(") depth++;
    if (ch === ")" && --depth < 0) throw new DataDrivenParseError(`${pos}: unbalanced ')' in ${JSON.stringify(s)}`);
    if (depth === 0 && (ch === " " || ch === "\t")) {
      if (cur !== "") words.push(cur);
      cur = "";
      continue;
    }
    cur += ch;
  }
  if (depth !== 0) throw new DataDrivenParseError(`${pos}: unbalanced '(' in ${JSON.stringify(s)}`);
  if (cur !== "") words.push(cur);
  return words;
}

/** Remove surrounding double quotes, resolving `\"` and `\\`; other words are returned as is. */
function unquote(w: string): string {
  if (w.length < 2 || !w.startsWith('"') || !w.endsWith('"')) return w;
  return w.slice(1, -1).replace(/\\(["\\])/g, "$1");
}

/** Parse one argument word: `key`, `"quoted word"`, `key=val`, `key="v"`, `key=(a, b)`. */
function parseArg(word: string): CmdArg {
  const eq = word.indexOf("=");
  if (word.startsWith('"') || eq < 0) return { key: unquote(word), vals: [], assigned: false };
  const key = word.slice(0, eq);
  const val = word.slice(eq + 1);
  if (val.startsWith("(") && val.endsWith(")")) {
    const inner = val.slice(1, -1).trim();
    return { key, vals: inner === "" ? [] : inner.split(",").map((v) => unquote(v.trim())), assigned: true };
  }
  return { key, vals: [unquote(val)], assigned: true };
}

/** Parse a command line into the command and its arguments. */
export function parseCommandLine(line: string, pos = "<input>"): { cmd: string; args: CmdArg[] } {
  const words = splitWords(line.trim(), pos);
  if (words.length === 0) throw new DataDrivenParseError(`${pos}: empty command line`);
  return { cmd: words[0]!, args: words.slice(1).map(parseArg) };
}

/** Parse a whole datadriven file. `file` names it in positions and errors. */
export function parseDataDriven(text: string, file: string): TestCase[] {
  const lines = splitLines(text);
  const cases: TestCase[] = [];
  let i = 0;
  while (i < lines.length) {
    const trimmed = lines[i]!.trim();
    if (trimmed === "" || trimmed.startsWith("#")) {
      i++;
      continue;
    }
    const line = i + 1;
    const pos = `${file}:${line}`;
    if (trimmed === SEPARATOR) throw new DataDrivenParseError(`${pos}: separator without a command`);
    // The command line, with `\` continuations.
    let cmdLine = lines[i]!.trimEnd();
    while (cmdLine.endsWith("\\")) {
      i++;
      if (i >= lines.length) throw new DataDrivenParseError(`${pos}: continuation at end of file`);
      cmdLine = `${cmdLine.slice(0, -1).trimEnd()} ${lines[i]!.trim()}`;
    }
    i++;
    const { cmd, args } = parseCommandLine(cmdLine, pos);
    // Input lines up to the separator.
    const input: string[] = [];
    while (i < lines.length && lines[i] !== SEPARATOR) input.push(lines[i++]!);
    if (i >= lines.length) throw new DataDrivenParseError(`${pos}: missing "${SEPARATOR}" after command ${JSON.stringify(cmdLine)}`);
    const sepIndex = i;
    i++;
    const output: string[] = [];
    if (i < lines.length && lines[i] === SEPARATOR) {
      // Doubled separator: the output ends at a "----" line directly followed by another.
      i++;
      for (;;) {
        if (i >= lines.length) {
          throw new DataDrivenParseError(`${pos}: missing closing "${SEPARATOR}\\n${SEPARATOR}" for ${JSON.stringify(cmdLine)}`);
        }
        if (lines[i] === SEPARATOR && lines[i + 1] === SEPARATOR) break;
        output.push(lines[i++]!);
      }
      i += 2;
      if (i < lines.length && lines[i]!.trim() !== "") {
        throw new DataDrivenParseError(`${file}:${i + 1}: expected a blank line after the closing separator`);
      }
    } else {
      while (i < lines.length && lines[i]!.trim() !== "") output.push(lines[i++]!);
    }
    cases.push({
      file,
      line,
      pos,
      cmdLine,
      cmd,
      args,
      input: input.join("\n"),
      expected: output.join("\n"),
      sepIndex,
      blockEnd: i,
    });
  }
  return cases;
}

/** Normalise an output for comparison and writing: no trailing newlines or trailing spaces. */
export function normalizeOutput(s: string): string {
  return s
    .split("\n")
    .map((l) => l.trimEnd())
    .join("\n")
    .replace(/\n+$/, "");
}

/** The lines of an expected-output block for `output`, separators included. */
function formatBlock(output: string): string[] {
  const out = normalizeOutput(output);
  if (out === "") return [SEPARATOR];
  const lines = out.split("\n");
  // A blank line would end the block early, and a lone separator line would be misread.
  if (lines.some((l) => l === "" || l === SEPARATOR)) return [SEPARATOR, SEPARATOR, ...lines, SEPARATOR, SEPARATOR];
  return [SEPARATOR, ...lines];
}

/**
 * Rebuild `text` with the expected output of each case replaced by `outputs[k]`. Everything
 * outside the output blocks (comments, prose, commands, input, blank lines) is kept.
 */
export function rewriteDataDriven(text: string, cases: readonly TestCase[], outputs: readonly string[]): string {
  if (cases.length !== outputs.length) throw new Error(`rewrite: ${cases.length} cases but ${outputs.length} outputs`);
  const lines = splitLines(text);
  const out: string[] = [];
  let pos = 0;
  cases.forEach((c, k) => {
    for (; pos < c.sepIndex; pos++) out.push(lines[pos]!);
    out.push(...formatBlock(outputs[k]!));
    pos = c.blockEnd;
  });
  for (; pos < lines.length; pos++) out.push(lines[pos]!);
  return `${out.join("\n")}\n`;
}

// ---- helpers for handlers ----

/** The words given without `=`, in order (positional arguments). */
export function positional(c: Pick<TestCase, "args">): string[] {
  return c.args.filter((a) => !a.assigned).map((a) => a.key);
}

/** The argument `key`, if given. */
export function findArg(c: Pick<TestCase, "args">, key: string): CmdArg | undefined {
  return c.args.find((a) => a.key === key);
}
