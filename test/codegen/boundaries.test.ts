// The entry point of generated code, raftgen/runtime/codegen-v1, must stay light and stable
// (STYLE 7.2): nothing it reaches, following relative imports from its index.ts through the
// runtime, may import the generator or the generator's packages (ts-morph, handlebars, yaml).
// Also: index.ts lists named exports only (no `export *`), and package.json exports it.

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const INDEX = path.join(ROOT, "runtime/codegen-v1/index.ts");
const FORBIDDEN_PACKAGES = ["ts-morph", "handlebars", "yaml"];

/** Module specifiers of a TS file (comments removed first). */
function specifiers(file: string): string[] {
  const src = readFileSync(file, "utf8").replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const out: string[] = [];
  for (const m of src.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g)) out.push(m[1]!);
  return out;
}

/** Every runtime file reachable from `entry` by relative imports, with its bare imports. */
function reach(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [entry];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const specs = specifiers(file);
    seen.set(file, specs.filter((s) => !s.startsWith(".")));
    for (const s of specs.filter((x) => x.startsWith("."))) {
      const target = path.resolve(path.dirname(file), s.replace(/\.js$/, ".ts"));
      if (existsSync(target)) todo.push(target);
    }
  }
  return seen;
}

describe("runtime/codegen-v1 boundaries", () => {
  const files = reach(INDEX);

  it("reaches the codec, the node and the server, but never the generator or its packages", () => {
    const rel = [...files.keys()].map((f) => path.relative(ROOT, f));
    expect(rel).toContain("runtime/codegen-v1/codec.ts");
    expect(rel).toContain("runtime/server/process.ts");
    const bad: string[] = [];
    for (const [file, bare] of files) {
      const r = path.relative(ROOT, file);
      if (!r.startsWith("runtime/")) bad.push(`${r} is outside runtime/`);
      for (const b of bare) if (FORBIDDEN_PACKAGES.some((p) => b === p || b.startsWith(`${p}/`))) bad.push(`${r} imports ${b}`);
    }
    expect(bad).toEqual([]);
  });

  it("the scanner sees imports (self-test)", () => {
    const sample = path.join(ROOT, "runtime/codegen-v1/codec.ts");
    expect(specifiers(sample)).toContain("protobufjs");
  });

  it("index.ts has named exports only, and package.json maps the entry point", () => {
    expect(readFileSync(INDEX, "utf8")).not.toMatch(/export\s+\*/);
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { exports: Record<string, unknown> };
    expect(pkg.exports["./runtime/codegen-v1"]).toEqual({ types: "./dist/runtime/codegen-v1/index.d.ts", default: "./dist/runtime/codegen-v1/index.js" });
  });
});
