// Runs every datadriven interaction script in test/raft/testdata/*.txt (STYLE 7.10), one
// vitest test per file, each with a fresh InteractionEnv. Scripts must open with a prose
// paragraph (`#` comments) saying what they show. Two further checks keep the harness honest:
// the datadriven parser/writer on small inline files, and determinism (every script, run
// twice in fresh environments, prints the same bytes).
//
// REWRITE=1 npx vitest run test/raft/interaction.test.ts regenerates the expected outputs;
// read the diff before keeping it: a changed output is a changed behaviour of the core.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { DataDrivenParseError, normalizeOutput, parseDataDriven, rewriteDataDriven } from "./datadriven/parser.js";
import { runDataDrivenFile } from "./datadriven/runner.js";
import { InteractionEnv } from "./interaction/env.js";

const dir = join(dirname(fileURLToPath(import.meta.url)), "testdata");
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".txt"))
  .sort();

describe("datadriven parser", () => {
  const sample = [
    "# prose paragraph",
    "# second line",
    "",
    "cmd a b=1 c=(x, y) \"q r\" d=\"e f\"",
    "----",
    "out1",
    "out2",
    "",
    "# comment between cases",
    "long \\",
    "  continued",
    "input line",
    "----",
    "----",
    "with",
    "",
    "blank",
    "----",
    "----",
    "",
    "empty",
    "----",
    "",
  ].join("\n");

  it("parses commands, arguments, input and both output forms with line numbers", () => {
    const cases = parseDataDriven(sample, "sample.txt");
    expect(cases.map((c) => [c.pos, c.cmd, c.expected, c.input])).toEqual([
      ["sample.txt:4", "cmd", "out1\nout2", ""],
      ["sample.txt:10", "long", "with\n\nblank", "input line"],
      ["sample.txt:21", "empty", "", ""],
    ]);
    expect(cases[0]!.args).toEqual([
      { key: "a", vals: [], assigned: false },
      { key: "b", vals: ["1"], assigned: true },
      { key: "c", vals: ["x", "y"], assigned: true },
      { key: "q r", vals: [], assigned: false },
      { key: "d", vals: ["e f"], assigned: true },
    ]);
    expect(cases[1]!.args).toEqual([{ key: "continued", vals: [], assigned: false }]);
  });

  it("rewrites only the output blocks, choosing the separator form", () => {
    const cases = parseDataDriven(sample, "sample.txt");
    // Same outputs: the file comes back byte for byte.
    expect(rewriteDataDriven(sample, cases, cases.map((c) => c.expected))).toBe(sample);
    const out = rewriteDataDriven(sample, cases, ["new\n\nblank", "single", "x  \n"]);
    const again = parseDataDriven(out, "out.txt");
    expect(again.map((c) => c.expected)).toEqual(["new\n\nblank", "single", "x"]);
    expect(out.startsWith("# prose paragraph\n# second line\n\ncmd a b=1")).toBe(true);
    expect(out).toContain("# comment between cases\nlong \\\n  continued\ninput line\n----\nsingle\n");
  });

  it("reports malformed files with file:line", () => {
    expect(() => parseDataDriven("cmd\nno separator\n", "bad.txt")).toThrow(DataDrivenParseError);
    expect(() => parseDataDriven("cmd\nno separator\n", "bad.txt")).toThrow("bad.txt:1");
    expect(() => parseDataDriven("ok\n----\n----\nnever closed\n", "bad.txt")).toThrow("bad.txt:1");
    expect(() => parseDataDriven("x\n----\nok\n\ncmd a=(1, 2\n----\n", "bad.txt")).toThrow("bad.txt:5");
  });

  it("normalises trailing whitespace and newlines", () => {
    expect(normalizeOutput("a  \nb\n\n\n")).toBe("a\nb");
  });
});

describe("raft interaction scripts", () => {
  it("every script opens with a prose paragraph", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const f of files) {
      const first = readFileSync(join(dir, f), "utf8").split("\n")[0] ?? "";
      expect(first.startsWith("# "), `${f} must start with a "# " prose paragraph`).toBe(true);
    }
  });

  it("every script prints the same bytes when run twice", () => {
    const run = (f: string): string[] => {
      const env = new InteractionEnv();
      return parseDataDriven(readFileSync(join(dir, f), "utf8"), f).map((c) => env.handle(c));
    };
    for (const f of files) expect(run(f), f).toEqual(run(f));
  });

  for (const f of files) {
    it(f, () => {
      const env = new InteractionEnv();
      const n = runDataDrivenFile(join(dir, f), (c) => env.handle(c));
      expect(n).toBeGreaterThan(0);
    });
  }
});
