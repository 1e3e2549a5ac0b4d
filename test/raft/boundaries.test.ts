// The import-scan test of the Raft core's module boundaries (STYLE 7.1, 7.2, 7.3).
//
// The core under runtime/raft must stay a pure, synchronous, deterministic state machine: it
// imports nothing outside runtime/raft (no other runtime/ module, no generator/, no package,
// no Node built-in), and it never touches timers, the clock, global randomness, the process,
// async code, Buffer or the console. Inside the core, quorum/ and tracker/ stay below the
// state machine (they never import raft.ts), and confchange/ sees only tracker/, quorum/ and
// the shared types and errors. Finally nothing under runtime/ may import the generator.
//
// The scanner below is a small hand-written lexer: it blanks out comments and the contents of
// string, template and regex literals (keeping offsets and newlines), so prose such as "never
// calls Math.random" in a comment does not trip it while `${Date.now()}` inside a template
// still does. Module specifiers are read from the string literals that follow `from`,
// `import`, `import(` and `require(`. Every violation names the file and line. A self-test runs
// the scanner over inline sources with known violations, so this test can actually fail.

import { readdirSync, readFileSync, statSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const RUNTIME = path.join(ROOT, "runtime");
const RAFT = path.join(RUNTIME, "raft");
const GENERATOR = path.join(ROOT, "generator");

// ---------------------------------------------------------------------------------------
// Lexing: blank comments and literal contents, collect string literals.

interface StringLiteral {
  /** Offset of the opening quote. */
  start: number;
  /** The literal's raw text between the quotes (escapes left as written). */
  value: string;
}

interface Stripped {
  /** The source with comments and literal contents replaced by spaces (newlines kept). */
  code: string;
  strings: StringLiteral[];
}

const REGEX_PRECEDING_WORDS = new Set([
  "return", "typeof", "case", "do", "else", "in", "of", "new", "delete", "void", "throw", "instanceof", "yield", "await",
]);

/** Strip comments and the contents of string, template and regex literals from TS source. */
export function stripSource(src: string): Stripped {
  const out = src.split("");
  const strings: StringLiteral[] = [];
  const blank = (from: number, to: number) => {
    for (let k = from; k < to && k < out.length; k++) if (out[k] !== "\n") out[k] = " ";
  };
  // For each open `${`: how many plain `{` are open inside it.
  const templateDepth: number[] = [];
  // Last significant code character and last word, to tell a regex from a division.
  let lastChar = "";
  let lastWord = "";
  let i = 0;
  const n = src.length;

  /** Scan template text starting at j (just after ` or }); returns the index to resume code. */
  const scanTemplate = (j: number, openedAt: number): number => {
    const contentStart = j;
    while (j < n) {
      const c = src[j]!;
      if (c === "\\") {
        j += 2;
        continue;
      }
      if (c === "`") {
        blank(contentStart, j);
        if (src[openedAt] === "`") strings.push({ start: openedAt, value: src.slice(contentStart, j) });
        lastChar = "`";
        lastWord = "";
        return j + 1;
      }
      if (c === "$" && src[j + 1] === "{") {
        blank(contentStart, j);
        templateDepth.push(0);
        lastChar = "{";
        lastWord = "";
        return j + 2;
      }
      j++;
    }
    blank(contentStart, n);
    return n;
  };

  while (i < n) {
    const c = src[i]!;
    const d = src[i + 1];
    if (c === "/" && d === "/") {
      let j = i;
      while (j < n && src[j] !== "\n") j++;
      blank(i, j);
      i = j;
      continue;
    }
    if (c === "/" && d === "*") {
      const end = src.indexOf("*/", i + 2);
      const j = end < 0 ? n : end + 2;
      blank(i, j);
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && src[j] !== c && src[j] !== "\n") j += src[j] === "\\" ? 2 : 1;
      strings.push({ start: i, value: src.slice(i + 1, j) });
      blank(i + 1, j);
      i = j + 1;
      lastChar = c;
      lastWord = "";
      continue;
    }
    if (c === "`") {
      i = scanTemplate(i + 1, i);
      continue;
    }
    if (c === "{" && templateDepth.length > 0) {
      templateDepth[templateDepth.length - 1]!++;
    } else if (c === "}" && templateDepth.length > 0) {
      if (templateDepth[templateDepth.length - 1] === 0) {
        templateDepth.pop();
        i = scanTemplate(i + 1, i);
        continue;
      }
      templateDepth[templateDepth.length - 1]!--;
    }
    if (c === "/") {
      const regexAllowed =
        lastChar === "" || "(,=:[!&|?{};+-*%<>~^".includes(lastChar) || REGEX_PRECEDING_WORDS.has(lastWord);
      if (regexAllowed) {
        let j = i + 1;
        let inClass = false;
        while (j < n && src[j] !== "\n") {
          const r = src[j]!;
          if (r === "\\") {
            j += 2;
            continue;
          }
          if (r === "[") inClass = true;
          else if (r === "]") inClass = false;
          else if (r === "/" && !inClass) break;
          j++;
        }
        blank(i + 1, j);
        i = j + 1;
        lastChar = "/";
        lastWord = "";
        continue;
      }
    }
    if (/[\w$]/.test(c)) {
      let j = i;
      while (j < n && /[\w$]/.test(src[j]!)) j++;
      lastWord = src.slice(i, j);
      lastChar = src[j - 1]!;
      i = j;
      continue;
    }
    if (!/\s/.test(c)) {
      lastChar = c;
      lastWord = "";
    }
    i++;
  }
  return { code: out.join(""), strings };
}

// ---------------------------------------------------------------------------------------
// Rules.

export interface Violation {
  file: string;
  line: number;
  what: string;
}

const lineOf = (src: string, offset: number): number => {
  let line = 1;
  for (let k = 0; k < offset && k < src.length; k++) if (src.charCodeAt(k) === 10) line++;
  return line;
};

/** Module specifiers of a source: [specifier, offset] pairs. */
export function importSpecifiers(src: string): { spec: string; offset: number }[] {
  const { code, strings } = stripSource(src);
  const specs: { spec: string; offset: number }[] = [];
  for (const s of strings) {
    const before = code.slice(Math.max(0, s.start - 120), s.start);
    if (/(?:(?<![\w$.])(?:from|import)|(?<![\w$.])(?:import|require)\s*\()\s*$/.test(before)) {
      specs.push({ spec: s.value, offset: s.start });
    }
  }
  return specs;
}

/** Forbidden free identifiers in the core, with the reason printed on a hit. */
const FORBIDDEN_IDENTIFIERS: Record<string, string> = {
  setTimeout: "timer",
  setInterval: "timer",
  setImmediate: "timer",
  clearTimeout: "timer",
  clearInterval: "timer",
  clearImmediate: "timer",
  queueMicrotask: "microtask scheduling",
  Date: "wall clock (time comes only through tick())",
  process: "the Node process",
  performance: "wall clock",
  async: "async code (the core is synchronous)",
  await: "async code (the core is synchronous)",
  Buffer: "Node Buffer (use Uint8Array)",
  console: "console output (log through Config.logger)",
  require: "CommonJS require",
  globalThis: "global object access (a way around the other rules)",
};

const NODE_BUILTINS = new Set(builtinModules.map((m) => m.replace(/^node:/, "").split("/")[0]!));

const isUnder = (file: string, dir: string): boolean => {
  const rel = path.relative(dir, file);
  return rel !== "" && !rel.startsWith("..") && !path.isAbsolute(rel);
};

/** Files that make up the state machine proper; quorum/ and tracker/ stay below them. */
const isStateMachineFile = (abs: string): boolean =>
  path.dirname(abs) === RAFT && /^(raft(-[\w-]+)?|raw-node)\.ts$/.test(path.basename(abs));

/**
 * Check one core file (absolute path `file` under runtime/raft) with source `src`.
 * Returns every violation of the boundary and determinism rules.
 */
export function checkCoreFile(file: string, src: string): Violation[] {
  const rel = path.relative(ROOT, file);
  const v: Violation[] = [];
  const add = (offset: number, what: string) => v.push({ file: rel, line: lineOf(src, offset), what });
  const sub = path.relative(RAFT, path.dirname(file)).split(path.sep)[0] ?? "";

  for (const { spec, offset } of importSpecifiers(src)) {
    if (spec.startsWith("node:")) {
      add(offset, `imports Node built-in module "${spec}"`);
      continue;
    }
    if (!spec.startsWith(".")) {
      const head = spec.split("/")[0]!;
      if (NODE_BUILTINS.has(head)) add(offset, `imports Node built-in module "${spec}"`);
      else if (spec.startsWith("@grpc/")) add(offset, `imports gRPC package "${spec}"`);
      else if (head === "protobufjs") add(offset, `imports protobufjs ("${spec}")`);
      else if (/rocksdb/i.test(spec)) add(offset, `imports a RocksDB binding ("${spec}")`);
      else if (/(^|\/)generator(\/|$)/.test(spec)) add(offset, `imports the generator ("${spec}")`);
      else add(offset, `imports package "${spec}" from outside runtime/raft`);
      continue;
    }
    const target = path.resolve(path.dirname(file), spec);
    if (!isUnder(target, RAFT)) {
      if (isUnder(target, GENERATOR) || target === GENERATOR) add(offset, `imports the generator ("${spec}")`);
      else if (isUnder(target, RUNTIME)) add(offset, `imports another runtime module ("${spec}")`);
      else add(offset, `imports "${spec}" from outside runtime/raft`);
      continue;
    }
    const targetTs = target.replace(/\.js$/, ".ts");
    // STYLE 7.1: quorum/ and tracker/ must not import the state machine.
    if ((sub === "quorum" || sub === "tracker") && isStateMachineFile(targetTs)) {
      add(offset, `${sub}/ must not import the state machine ("${spec}")`);
    }
    // quorum/ sits below tracker/ (tracker counts through quorum, never the reverse).
    if (sub === "quorum" && isUnder(targetTs, path.join(RAFT, "tracker"))) {
      add(offset, `quorum/ must not import tracker/ ("${spec}")`);
    }
    // STYLE 7.1: confchange/ imports only tracker/, quorum/, types and errors.
    if (sub === "confchange") {
      const ok =
        isUnder(targetTs, path.join(RAFT, "tracker")) ||
        isUnder(targetTs, path.join(RAFT, "quorum")) ||
        isUnder(targetTs, path.join(RAFT, "confchange")) ||
        targetTs === path.join(RAFT, "types.ts") ||
        targetTs === path.join(RAFT, "errors.ts");
      if (!ok) add(offset, `confchange/ may import only tracker/, quorum/, types and errors ("${spec}")`);
    }
  }

  const { code } = stripSource(src);
  for (const [name, why] of Object.entries(FORBIDDEN_IDENTIFIERS)) {
    // A free identifier: not a property access (`x.process`), not part of a longer name.
    const re = new RegExp(`(?<![\\w$.])${name}(?![\\w$])`, "g");
    for (let m = re.exec(code); m; m = re.exec(code)) add(m.index, `uses ${name}: ${why}`);
  }
  const mathRandom = /(?<![\w$.])Math\s*(?:\.\s*random(?![\w$])|\?\.\s*random(?![\w$])|\[)/g;
  for (let m = mathRandom.exec(code); m; m = mathRandom.exec(code)) {
    add(m.index, "uses Math.random: global randomness (use Config.rand)");
  }
  return v.sort((a, b) => a.line - b.line || a.what.localeCompare(b.what));
}

/** Any runtime/ file: it must not import the generator (DESIGN, STYLE 7.2). */
export function checkRuntimeFile(file: string, src: string): Violation[] {
  const rel = path.relative(ROOT, file);
  const v: Violation[] = [];
  for (const { spec, offset } of importSpecifiers(src)) {
    const viaPackage = !spec.startsWith(".") && /(^|\/)generator(\/|$)/.test(spec);
    const target = spec.startsWith(".") ? path.resolve(path.dirname(file), spec) : "";
    if (viaPackage || (target !== "" && (target === GENERATOR || isUnder(target, GENERATOR)))) {
      v.push({ file: rel, line: lineOf(src, offset), what: `runtime imports the generator ("${spec}")` });
    }
  }
  return v;
}

function walkTs(dir: string): string[] {
  const files: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) files.push(...walkTs(p));
    else if (/\.(m|c)?ts$/.test(name)) files.push(p);
  }
  return files;
}

const format = (vs: Violation[]) => vs.map((x) => `${x.file}:${x.line}: ${x.what}`).join("\n");

// ---------------------------------------------------------------------------------------
// The tests.

describe("module boundaries of runtime/raft", () => {
  const coreFiles = walkTs(RAFT);

  it("finds the core files", () => {
    const rels = coreFiles.map((f) => path.relative(RAFT, f));
    expect(rels).toContain("raw-node.ts");
    expect(rels).toContain(path.join("quorum", "majority.ts"));
    expect(rels).toContain(path.join("tracker", "progress.ts"));
    expect(rels).toContain(path.join("confchange", "changer.ts"));
  });

  it("no core file imports outside runtime/raft or uses timers, clock, randomness, process, async", () => {
    const violations = coreFiles.flatMap((f) => checkCoreFile(f, readFileSync(f, "utf8")));
    expect(format(violations)).toBe("");
  });

  it("nothing under runtime/ imports the generator", () => {
    const violations = walkTs(RUNTIME).flatMap((f) => checkRuntimeFile(f, readFileSync(f, "utf8")));
    expect(format(violations)).toBe("");
  });
});

describe("the scanner itself", () => {
  const at = (sub: string) => path.join(RAFT, sub);
  const scan = (sub: string, src: string) => checkCoreFile(at(sub), src).map((x) => `${x.line}: ${x.what}`);

  it("ignores comments and string contents", () => {
    const src = [
      "// never calls setTimeout, Date.now() or Math.random; no async, no process",
      "/* import fs from 'fs'; console.log(x) */",
      'const s = "Date.now() and process.env";',
      "const t = 'await setImmediate(Buffer)';",
      "const u = `performance of ${1 + 2} queueMicrotask`;",
      "const re = /Date|process/g; const q = a / b / c;",
      "node.process(m); this.console = 1; const ArrayBuffer2 = new ArrayBuffer(4);",
      'import { x } from "./types.js";',
    ].join("\n");
    expect(scan("log.ts", src)).toEqual([]);
  });

  it("reports forbidden identifiers with their line, inside template expressions too", () => {
    const src = [
      "const a = 1;",
      "const t = setTimeout(() => {}, 1);",
      "const now = Date.now();",
      "const r = Math.random();",
      "async function f() { await g(); }",
      "const s = `at ${performance.now()} ms`; const z = `${`${process.pid}`}`;",
      "const b = Buffer.from([1]); console.log(b);",
      "queueMicrotask(f); setInterval(f, 1); setImmediate(f); globalThis.x = 1;",
      "const q = /\"/; setTimeout(f);",
    ].join("\n");
    expect(scan("raft.ts", src)).toEqual([
      "2: uses setTimeout: timer",
      "3: uses Date: wall clock (time comes only through tick())",
      "4: uses Math.random: global randomness (use Config.rand)",
      "5: uses async: async code (the core is synchronous)",
      "5: uses await: async code (the core is synchronous)",
      "6: uses performance: wall clock",
      "6: uses process: the Node process",
      "7: uses Buffer: Node Buffer (use Uint8Array)",
      "7: uses console: console output (log through Config.logger)",
      "8: uses globalThis: global object access (a way around the other rules)",
      "8: uses queueMicrotask: microtask scheduling",
      "8: uses setImmediate: timer",
      "8: uses setInterval: timer",
      "9: uses setTimeout: timer",
    ]);
  });

  it("reports imports from outside the core, in every import form", () => {
    const src = [
      'import { readFileSync } from "node:fs";',
      "import path from 'path';",
      'import type { Driver } from "../node/driver.js";',
      'export * from "@grpc/grpc-js";',
      'const pb = await import("protobufjs");',
      'const db = require("rocksdb");',
      'import "../../generator/cli.js";',
      'import { z } from "zod";',
      'import { ok } from "./types.js";',
    ].join("\n");
    expect(scan("raw-node.ts", src)).toEqual([
      '1: imports Node built-in module "node:fs"',
      '2: imports Node built-in module "path"',
      '3: imports another runtime module ("../node/driver.js")',
      '4: imports gRPC package "@grpc/grpc-js"',
      '5: imports protobufjs ("protobufjs")',
      "5: uses await: async code (the core is synchronous)",
      '6: imports a RocksDB binding ("rocksdb")',
      "6: uses require: CommonJS require",
      '7: imports the generator ("../../generator/cli.js")',
      '8: imports package "zod" from outside runtime/raft',
    ]);
  });

  it("enforces the internal layering of quorum/, tracker/ and confchange/", () => {
    expect(scan("quorum/majority.ts", 'import type { Raft } from "../raft.js";\nimport { Progress } from "../tracker/progress.js";')).toEqual([
      '1: quorum/ must not import the state machine ("../raft.js")',
      '2: quorum/ must not import tracker/ ("../tracker/progress.js")',
    ]);
    expect(scan("tracker/progress.ts", 'import { x } from "../raft-leader.js";\nimport { y } from "../raw-node.js";\nimport { z } from "../quorum/majority.js";')).toEqual([
      '1: tracker/ must not import the state machine ("../raft-leader.js")',
      '2: tracker/ must not import the state machine ("../raw-node.js")',
    ]);
    const cc = [
      'import { RaftError } from "../errors.js";',
      'import type { Progress } from "../tracker/progress.js";',
      'import { voteResult } from "../quorum/majority.js";',
      'import type { Entry } from "../types.js";',
      'import { restore } from "./restore.js";',
      'import { RaftLog } from "../log.js";',
    ].join("\n");
    expect(scan("confchange/changer.ts", cc)).toEqual([
      '6: confchange/ may import only tracker/, quorum/, types and errors ("../log.js")',
    ]);
  });

  it("flags a runtime module that imports the generator", () => {
    const file = path.join(RUNTIME, "node", "driver.ts");
    expect(checkRuntimeFile(file, 'import { gen } from "../../generator/cli.js";\nimport { ok } from "../raft/index.js";').map((x) => x.line)).toEqual([1]);
    expect(checkRuntimeFile(file, 'import { gen } from "raftgen/generator/cli.js";').length).toBe(1);
    expect(checkRuntimeFile(file, 'import { ok } from "../raft/index.js"; // from "../../generator/x.js"').length).toBe(0);
  });
});
