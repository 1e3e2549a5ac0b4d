// Spec text -> YAML document with source ranges, plus the YAML-level issues: syntax errors,
// warnings (an unresolved tag), duplicate keys in one mapping, aliases to unknown anchors and
// more than one document in the file. Every node of the document keeps its `range` (offsets into
// the text), which is what lets validate.ts point at the exact key or value at fault.
//
// Aliases are resolved here once, in document order (an alias names the last anchor of that
// name before it), into a map that validate.ts reads, instead of asking the `yaml` package per
// alias (which searches the document each time). Duplicate keys are found in the same pass with
// the `yaml` package's own rule (two scalar keys with the same value), not with its `uniqueKeys`
// option, which compares each key with every earlier one (quadratic in a mapping's size).
//
// This module does not interpret the spec language (validate.ts does) and never throws on any
// text: a failure inside the parser itself becomes an issue.

import { isAlias, isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Alias, type Document, type Node } from "yaml";
import { formatPath } from "./diagnostics.js";
import type { Issue, Range } from "./spec.js";

export interface LoadedSpec {
  /** The parsed document (absent only when the parser itself failed); `doc.contents` is null for an empty file. */
  readonly doc?: Document.Parsed;
  /** YAML-level issues, in the order found. */
  readonly issues: Issue[];
  /**
   * True when the document's structure cannot be trusted (a syntax error, an unknown alias):
   * validation then reports only these issues, since checking a half-parsed document would
   * mostly report the syntax error again in other words. Duplicate keys and warnings are not
   * fatal (the document is complete; validation skips the repeated key).
   */
  readonly fatal: boolean;
  /** Each alias node of the document -> the node its anchor names (undefined: no such anchor). */
  readonly aliases: ReadonlyMap<Alias, Node | undefined>;
  /** Start offsets of the keys reported here as repeated in their mapping. */
  readonly duplicateKeys: ReadonlySet<number>;
  readonly lineCounter: LineCounter;
}

/** A node's [start, end) range (the value, without trailing comments). */
export function nodeRange(node: Node | null | undefined): Range {
  const r = node?.range;
  return r ? { start: r[0], end: r[1] } : { start: 0, end: 0 };
}

/**
 * The text of a scalar used as a name (a key, an enum value): a string as is; a plain scalar
 * that YAML resolved to something else (`1`, `true`, `NULL`) as written, since there it is a
 * name typed by the user, not a number or a boolean. Undefined for an empty or non-scalar node.
 */
export function scalarText(node: Node | null | undefined): string | undefined {
  if (!isScalar(node)) return undefined;
  if (typeof node.value === "string") return node.value;
  const src = node.source;
  if (typeof src === "string" && src !== "") return src;
  if (node.value === null || node.value === undefined) return undefined;
  return String(node.value);
}

function lowerFirst(message: string): string {
  // Keep a leading acronym (`YAML ...`) as it is.
  return /^[A-Z][a-z]/.test(message) ? message.charAt(0).toLowerCase() + message.slice(1) : message;
}

/** Parse spec text. Never throws. */
export function loadSpec(text: string): LoadedSpec {
  const lineCounter = new LineCounter();
  const issues: Issue[] = [];
  const aliases = new Map<Alias, Node | undefined>();
  const duplicateKeys = new Set<number>();
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    issues.push({ code: "yaml-syntax", path: [], message: `invalid YAML: ${lowerFirst(message)}`, range: { start: 0, end: 0 } });
    return { issues, fatal: true, aliases, duplicateKeys, lineCounter };
  }

  // One pass over the whole document, in document order: anchors, aliases and repeated keys.
  interface Frame {
    readonly node: unknown;
    readonly path: (string | number)[];
  }
  const anchors = new Map<string, Node>();
  const stack: Frame[] = [{ node: doc.contents, path: [] }];
  while (stack.length > 0) {
    const { node, path } = stack.pop()!;
    if (isAlias(node)) {
      aliases.set(node, anchors.get(node.source));
      continue;
    }
    if (isScalar(node) || isMap(node) || isSeq(node)) {
      if (typeof node.anchor === "string" && node.anchor !== "") anchors.set(node.anchor, node);
    }
    const children: Frame[] = [];
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key as Node | null;
        const name = scalarText(key) ?? "";
        if (isScalar(key) && !Number.isNaN(key.value)) {
          const identity = `${typeof key.value}:${String(key.value)}`;
          if (seen.has(identity) && key.range) {
            duplicateKeys.add(key.range[0]);
            const where = path.length > 0 ? ` in ${formatPath(path)}` : "";
            issues.push({ code: "duplicate-key", path: [...path, name], message: `duplicate key ${JSON.stringify(name)}${where}`, range: nodeRange(key) });
          }
          seen.add(identity);
        }
        children.push({ node: pair.key, path }, { node: pair.value, path: [...path, name] });
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, i) => {
        if (isPair(item)) children.push({ node: item.key, path }, { node: item.value, path: [...path, i] });
        else children.push({ node: item, path: [...path, i] });
      });
    }
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }

  // The parser may place an error at the end of input one past the last character.
  const clamp = (pos: readonly [number, number]): Range => {
    const start = Math.max(0, Math.min(pos[0], text.length));
    return { start, end: Math.max(start, Math.min(pos[1], text.length)) };
  };
  let fatal = false;
  for (const err of doc.errors) {
    const range = clamp(err.pos);
    fatal = true;
    const message =
      err.code === "MULTIPLE_DOCS"
        ? "invalid YAML: a spec is one YAML document; remove this `---` and what follows, or merge it into the first"
        : `invalid YAML: ${lowerFirst(err.message)}`;
    issues.push({ code: "yaml-syntax", path: [], message, range });
  }
  for (const warn of doc.warnings) {
    issues.push({ code: "yaml-warning", path: [], message: `unsupported YAML: ${lowerFirst(warn.message)}`, range: clamp(warn.pos) });
  }
  for (const [alias, target] of aliases) {
    if (target !== undefined) continue;
    fatal = true;
    issues.push({ code: "unknown-alias", path: [], message: `unknown alias "*${alias.source}": no anchor "&${alias.source}" before it`, range: nodeRange(alias) });
  }
  return { doc, issues, fatal, aliases, duplicateKeys, lineCounter };
}
