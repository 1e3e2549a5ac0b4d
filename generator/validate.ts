// Spec text -> CheckedSpec, or every issue with it. This is the gateway check of the generator
// (STYLE 7.6): after it, build-model.ts and the emitters trust the spec's names and types.
//
// It walks the YAML document node by node (never `toJS()`, which would lose the ranges and
// would let a key such as `__proto__` touch an object's prototype), so that each issue points
// at the exact node at fault: the key for a name problem, the value for a type problem, the
// required key's parent for a missing key. It collects every issue and never stops at the
// first; a CheckedSpec is returned only when there is none. Where a part is broken, the checks
// that depend on it are skipped rather than reported again (an unresolved type is reported
// once, not also as a bad table value). When the YAML itself does not parse, only the YAML
// issues are reported (see load.ts).
//
// The rules are the plan's "The spec language (final)" (plan/GENERATOR-PLAN.md). Two reading
// rules decide a type's form: a mapping with an `enum` key is an enum; a mapping with a
// `fields` key holding a mapping is the long form `{ fields, doc }` when its other keys are
// `doc` only, or when that mapping is not itself a field (it has no `type` key); anything else
// is the short form (a mapping of fields). Beyond the plan's list, this also refuses two
// explicit field numbers equal in one message, a cycle of required message fields (`Node {
// child: Node }` would decode to an infinite default object), and one enum value name in two
// enums (proto3 scopes enum values at package level, so the .proto would not compile). Plain
// scalars in name positions are names as written (`TRUE` in an enum list is not a boolean).
// Two hints cover YAML's comma trap in flow mappings (`{ doc: a, b }`, `{ m: map<string, T> }`).
//
// Never throws on any input: every node is checked for its kind before it is read.

import { isAlias, isMap, isPair, isScalar, isSeq, type Node, type YAMLMap } from "yaml";
import { formatPath, sortIssues, suggest } from "./diagnostics.js";
import { loadSpec, nodeRange, scalarText, type LoadedSpec } from "./load.js";
import { camelCase, KEY_TYPES, pascalCase, SCALARS, type ConsistencyLevel, type KeyType, type Scalar } from "./model.js";
import type {
  CheckedSpec,
  Issue,
  Range,
  SpecEnum,
  SpecField,
  SpecMessage,
  SpecMethod,
  SpecPayload,
  SpecTable,
  SpecTypeRef,
} from "./spec.js";

type Path = readonly (string | number)[];

/** Every issue code validateSpec (with load.ts) can report. Stable: tests and tools match on them. */
export const SPEC_ISSUE_CODES = [
  // YAML level (load.ts)
  "yaml-syntax", // the text does not parse; only YAML issues are then reported
  "yaml-warning", // parses, with something unsupported (an unknown tag)
  "duplicate-key", // the same key twice in one mapping
  "unknown-alias", // `*name` without an `&name` before it
  "too-many-aliases", // more alias uses than MAX_ALIAS_HOPS
  // shape
  "empty-spec", // an empty file, or no commands and no queries
  "bad-value", // a value of the wrong kind (a list where a string is needed, `optional: 3`, ...)
  "missing-key", // a required key is absent (service, package, a field's type, a table's key/value)
  "missing-value", // a key is present with no value (`type:`)
  "unknown-key", // a key the spec language does not have here (with a suggestion)
  // names
  "not-pascal-case", // service or type name
  "not-snake-case", // field, table, command or query name
  "not-upper-snake-case", // enum value
  "bad-package",
  "reserved-word", // a name the generated code cannot use
  "duplicate-name", // one snake name twice among commands, queries and tables
  "case-collision", // two names alike after camelCase (`get_node2`, `get_node_2`)
  "generated-name-collision", // a type named like a generated one (`SetInput`) or like the service
  // types
  "unknown-type", // with a suggestion
  "bad-map-type", // `map<string>`, nested maps
  "map-key-not-string",
  "map-modifier", // a map field marked repeated or optional
  "repeated-and-optional",
  "number-out-of-range", // explicit field number outside 1..536870911 or in 19000..19999
  "duplicate-field-number", // two explicit numbers equal in one message
  "empty-enum",
  "duplicate-enum-value",
  "enum-value-collision", // one value name in two enums, or a value named like a type (proto3 scoping)
  "recursive-type", // a cycle of required message fields
  // tables, commands, queries
  "bad-table-key", // not string/uint64/int64/uint32
  "bad-table-value", // a map or an inline mapping
  "bad-payload", // an input/output naming a scalar, an enum or a map
  "bad-consistency",
  "consistency-on-command",
  "query-without-output",
] as const;
export type SpecIssueCode = (typeof SPEC_ISSUE_CODES)[number];

const TOP_KEYS = ["service", "package", "doc", "types", "state", "commands", "queries"] as const;
const LONG_TYPE_KEYS = ["fields", "doc"] as const;
const ENUM_KEYS = ["enum", "doc"] as const;
const FIELD_KEYS = ["type", "optional", "repeated", "doc", "number"] as const;
const TABLE_KEYS = ["key", "value", "doc"] as const;
const COMMAND_KEYS = ["input", "output", "doc"] as const;
const QUERY_KEYS = ["input", "output", "consistency", "doc"] as const;
const CONSISTENCY_LEVELS: readonly ConsistencyLevel[] = ["linearizable", "lease", "stale"];

const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const PASCAL = /^[A-Z][a-zA-Z0-9]*$/;
const UPPER_SNAKE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const PACKAGE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

/** Protobuf field numbers: 1..2^29-1, without the range protobuf keeps for itself. */
const MAX_FIELD_NUMBER = 536_870_911;
const PROTOBUF_RESERVED_NUMBERS = { from: 19_000, to: 19_999 };

/**
 * Names that cannot be a variable in a strict-mode TypeScript module: a field's camelCase name
 * must not be one, since handlers destructure inputs (`({ class }) =>` would not compile).
 * Contextual keywords (`type`, `from`, `of`, `as`, `async`, `string`, `number`, ...) are fine
 * variables, so fields may be named so.
 */
const TS_RESERVED = new Set(
  (
    "break case catch class const continue debugger default delete do else enum export extends false finally for " +
    "function if import in instanceof new null return super switch this throw true try typeof var void while with " +
    "yield let static implements interface package private protected public await arguments eval undefined"
  ).split(" "),
);
/** Properties every JS object has (or that JSON and prototypes give meaning to): no snake name may become one. */
const OBJECT_MEMBERS = new Set(["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "toJSON"]);
/** Members of the generated client class besides the commands and queries. */
const CLIENT_MEMBERS = new Set(["close", "raw"]);
/** Names the generated TypeScript imports or declares itself, or that shadow globals it uses. */
const RESERVED_TYPE_NAMES = new Set(
  (
    "Array Boolean Date Error Function Map Number Object Promise Record RegExp Set String Symbol Uint8Array BigInt " +
    "Partial Readonly Required Pick Omit Iterable IterableIterator Handlers CommandContext QueryContext Table " +
    "ReadonlyTable EntryInfo ClientOptions QueryOptions Consistency"
  ).split(" "),
);

/** Other languages' names for our scalars: suggested when edit distance finds nothing. */
const TYPE_ALIASES: ReadonlyMap<string, Scalar> = new Map<string, Scalar>([
  ["int", "int32"],
  ["integer", "int64"],
  ["long", "int64"],
  ["uint", "uint32"],
  ["ulong", "uint64"],
  ["i32", "int32"],
  ["i64", "int64"],
  ["u32", "uint32"],
  ["u64", "uint64"],
  ["boolean", "bool"],
  ["str", "string"],
  ["text", "string"],
  ["number", "double"],
  ["float32", "float"],
  ["float64", "double"],
  ["f32", "float"],
  ["f64", "double"],
  ["binary", "bytes"],
  ["blob", "bytes"],
]);

/** Bound on alias uses followed in one spec (a "billion laughs" document must stay cheap). */
const MAX_ALIAS_HOPS = 10_000;

const SCALAR_SET: ReadonlySet<string> = new Set(SCALARS);
const KEY_TYPE_SET: ReadonlySet<string> = new Set(KEY_TYPES);

/** One key of a mapping with its value. */
interface Entry {
  readonly name: string;
  /** This entry's path: the mapping's path plus `name`. */
  readonly path: Path;
  readonly keyRange: Range;
  /** The value with aliases resolved; undefined when there is none (`key:`, `key: null`). */
  readonly value: Node | undefined;
  /** The value as written (an alias stays an alias); the key's range when there is no value. */
  readonly valueRange: Range;
  /** Key start to value end. */
  readonly range: Range;
  /** The mapping is in flow style (`{ ... }`), where an unquoted comma ends a value. */
  readonly inFlow: boolean;
}

/** A `map<` type cut short by a comma in a flow mapping: `{ a: map<string, int64> }`. */
const CUT_MAP = /^\s*map\s*<[^>,]*$/;

type DeclaredKind = "message" | "enum" | "invalid";
type TypeForm = "enum" | "long" | "short" | "invalid";

/** A resolvable type name: a scalar or a type of `types:`. */
type NameRef = { readonly kind: "scalar"; readonly scalar: Scalar } | { readonly kind: "named"; readonly name: string };

/** Validate a spec. Never throws; `spec` is present exactly when `issues` is empty. */
export function validateSpec(text: string): { spec?: CheckedSpec; issues: Issue[] } {
  const loaded = loadSpec(text);
  if (loaded.fatal || loaded.doc === undefined) return { issues: sortIssues(loaded.issues) };
  const checker = new Checker(loaded, text);
  const spec = checker.check(loaded.doc.contents);
  const issues = sortIssues([...loaded.issues, ...checker.issues]);
  return issues.length === 0 && spec !== undefined ? { spec, issues } : { issues };
}

function where(path: Path): string {
  return path.length === 0 ? " at the top level" : ` in ${formatPath(path)}`;
}

/** "a, b or c". */
function oneOf(words: readonly string[]): string {
  return words.length <= 1 ? words.join("") : `${words.slice(0, -1).join(", ")} or ${words[words.length - 1]}`;
}

function quoteShort(s: string): string {
  const cut = s.length > 40 ? `${s.slice(0, 37)}...` : s;
  return JSON.stringify(cut);
}

/** What a value is, for "got ..." in messages. */
function describe(node: Node | undefined): string {
  if (node === undefined) return "nothing";
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) {
    const v: unknown = node.value;
    if (v === null || v === undefined) return "nothing";
    if (typeof v === "string") return `the string ${quoteShort(v)}`;
    if (typeof v === "number" || typeof v === "bigint") return `the number ${String(node.source ?? v)}`;
    if (typeof v === "boolean") return `the boolean ${String(v)}`;
    return "a non-text value";
  }
  return "an unsupported value";
}

function isMissing(node: Node | undefined): boolean {
  return node === undefined || (isScalar(node) && (node.value === null || node.value === undefined));
}

function joinRange(a: Range, b: Range): Range {
  return { start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/** `clusterName`, `Cluster-Name` -> `cluster_name` (a suggestion; may still be invalid). */
function toSnake(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_+|_+$/g, "");
}

/** `broker_node`, `brokerNode` -> `BrokerNode`. */
function toPascal(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter((p) => p !== "")
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join("");
}

/** `active`, `inService` -> `ACTIVE`, `IN_SERVICE`. */
function toUpperSnake(name: string): string {
  return toSnake(name).toUpperCase();
}

/** `; did you mean "x"?` when the fix is a valid name, else "". */
function didYouMean(fixed: string | undefined, valid: RegExp, original: string): string {
  return fixed !== undefined && fixed !== original && valid.test(fixed) ? `; did you mean "${fixed}"?` : "";
}

class Checker {
  readonly issues: Issue[] = [];
  private aliasHops = 0;
  /** Every name of `types:` with what it declares (also when its definition is broken). */
  private readonly declared = new Map<string, DeclaredKind>();
  private service: string | undefined;

  constructor(
    private readonly loaded: LoadedSpec,
    private readonly text: string,
  ) {}

  /**
   * A value's range, ending where its text ends: the `yaml` package lets a block collection run
   * over the next line break and a trailing comment, so such a collection ends with its last item.
   */
  private valueRangeOf(node: Node): Range {
    const r = nodeRange(node);
    let last: unknown = node;
    for (let depth = 0; depth < 100 && (isMap(last) || isSeq(last)) && !last.flow && last.items.length > 0; depth++) {
      const item: unknown = last.items[last.items.length - 1];
      last = isPair(item) ? (item.value ?? item.key) : item;
    }
    let end = last !== node && last !== null && typeof last === "object" && (last as Node).range ? nodeRange(last as Node).end : r.end;
    while (end > r.start && /\s/.test(this.text.charAt(end - 1))) end--;
    return { start: r.start, end: Math.max(r.start, end) };
  }

  private issue(code: SpecIssueCode, path: Path, message: string, range: Range): void {
    this.issues.push({ code, path: [...path], message, range });
  }

  /** The node itself, or what an alias names; undefined for none. */
  private deref(node: unknown): Node | undefined {
    if (isAlias(node)) {
      this.aliasHops++;
      if (this.aliasHops === MAX_ALIAS_HOPS + 1) {
        this.issue("too-many-aliases", [], `more than ${MAX_ALIAS_HOPS} alias uses; the spec must not expand that much`, nodeRange(node));
      }
      return this.aliasHops > MAX_ALIAS_HOPS ? undefined : this.loaded.aliases.get(node);
    }
    return node === null || node === undefined ? undefined : (node as Node);
  }

  /**
   * The entries of a mapping, in order. Keys that are not names are reported and skipped; a
   * repeated key is skipped (load.ts reported it, or it is reported here when YAML saw two
   * different values, `1` and `"1"`, that read as the same name).
   */
  private entries(map: YAMLMap, path: Path): Entry[] {
    const out: Entry[] = [];
    const seen = new Set<string>();
    for (const pair of map.items) {
      const rawKey = pair.key as unknown;
      const rawValue = pair.value as unknown;
      const keyNode = this.deref(rawKey);
      const keyRange = rawKey !== null && rawKey !== undefined ? nodeRange(rawKey as Node) : nodeRange(this.deref(rawValue) ?? map);
      const name = isScalar(keyNode) ? scalarText(keyNode) : undefined;
      if (name === undefined || name === "") {
        if (keyNode === undefined || isScalar(keyNode)) this.issue("bad-value", path, `empty key${where(path)}`, keyRange);
        else this.issue("bad-value", path, `a key${where(path)} must be a name, got ${describe(keyNode)}`, keyRange);
        continue;
      }
      if (seen.has(name)) {
        if (!this.loaded.duplicateKeys.has(keyRange.start)) {
          this.issue("duplicate-key", [...path, name], `duplicate key "${name}"${path.length > 0 ? where(path) : ""}`, keyRange);
        }
        continue;
      }
      seen.add(name);
      const value = this.deref(rawValue);
      const valueRange = rawValue !== null && rawValue !== undefined && (rawValue as Node).range ? this.valueRangeOf(rawValue as Node) : keyRange;
      out.push({
        name,
        path: [...path, name],
        keyRange,
        value: isMissing(value) ? undefined : value,
        valueRange,
        range: joinRange(keyRange, valueRange),
        inFlow: map.flow === true,
      });
    }
    return out;
  }

  /** Report keys outside `allowed` (except `ignore`), with a suggestion or the list of allowed keys. */
  private checkKeys(entries: readonly Entry[], allowed: readonly string[], path: Path, ignore: readonly string[] = []): void {
    entries.forEach((e, i) => {
      if (allowed.includes(e.name) || ignore.includes(e.name)) return;
      const guess = suggest(e.name, allowed);
      let hint = guess !== undefined ? `; did you mean "${guess}"?` : `; expected ${oneOf(allowed)}`;
      const prev = entries[i - 1];
      if (guess === undefined && e.inFlow && e.value === undefined && prev !== undefined && isScalar(prev.value) && typeof prev.value.value === "string") {
        hint = `; if it is the rest of ${prev.name}, quote ${prev.name}: inside { ... } a comma ends a value`;
      }
      this.issue("unknown-key", e.path, `unknown key ${quoteShort(e.name)}${where(path)}${hint}`, e.keyRange);
    });
  }

  /** A mapping value, or a report; null values count as an empty mapping when `nullIsEmpty`. */
  private mapValue(e: Entry, expected: string, nullIsEmpty: boolean): YAMLMap | "empty" | undefined {
    if (e.value === undefined) {
      if (nullIsEmpty) return "empty";
      this.issue("missing-value", e.path, `missing value for ${formatPath(e.path)}; expected ${expected}`, e.keyRange);
      return undefined;
    }
    if (isMap(e.value)) return e.value;
    this.issue("bad-value", e.path, `${formatPath(e.path)} must be ${expected}, got ${describe(e.value)}`, e.valueRange);
    return undefined;
  }

  private stringValue(e: Entry | undefined, expected = "a string"): string | undefined {
    if (e === undefined) return undefined;
    if (e.value === undefined) {
      this.issue("missing-value", e.path, `missing value for ${formatPath(e.path)}; expected ${expected}`, e.keyRange);
      return undefined;
    }
    if (isScalar(e.value) && typeof e.value.value === "string") return e.value.value;
    this.issue("bad-value", e.path, `${formatPath(e.path)} must be ${expected}, got ${describe(e.value)}`, e.valueRange);
    return undefined;
  }

  private docValue(e: Entry | undefined): string | undefined {
    const s = this.stringValue(e);
    return s === undefined ? undefined : s.trimEnd();
  }

  private boolValue(e: Entry | undefined): boolean | undefined {
    if (e === undefined) return undefined;
    if (e.value === undefined) {
      this.issue("missing-value", e.path, `missing value for ${formatPath(e.path)}; expected true or false`, e.keyRange);
      return undefined;
    }
    if (isScalar(e.value) && typeof e.value.value === "boolean") return e.value.value;
    this.issue("bad-value", e.path, `${formatPath(e.path)} must be true or false, got ${describe(e.value)}`, e.valueRange);
    return undefined;
  }

  // ---------------------------------------------------------------- the document

  check(contents: unknown): CheckedSpec | undefined {
    const root = this.deref(contents);
    if (isMissing(root)) {
      this.issue("empty-spec", [], "the spec is empty; it needs service, package and at least one command or query", { start: 0, end: 0 });
      return undefined;
    }
    if (!isMap(root)) {
      this.issue("bad-value", [], `the spec must be a mapping with service, package, types, state, commands and queries; got ${describe(root)}`, nodeRange(root));
      return undefined;
    }
    const rootRange = nodeRange(root);
    const top = this.entries(root, []);
    this.checkKeys(top, TOP_KEYS, []);
    const get = (name: string): Entry | undefined => top.find((e) => e.name === name);
    const atStart: Range = { start: rootRange.start, end: rootRange.start };

    const serviceEntry = get("service");
    let service: string | undefined;
    if (serviceEntry === undefined) {
      this.issue("missing-key", ["service"], `missing key "service" (the service name, PascalCase)`, atStart);
    } else {
      service = this.stringValue(serviceEntry, "a PascalCase name");
      if (service !== undefined && !PASCAL.test(service)) {
        const fix = didYouMean(toPascal(service), PASCAL, service);
        this.issue("not-pascal-case", ["service"], `service name ${quoteShort(service)} is not PascalCase${fix}`, serviceEntry.valueRange);
        service = undefined;
      }
    }
    this.service = service;

    const packageEntry = get("package");
    let pkg: string | undefined;
    if (packageEntry === undefined) {
      this.issue("missing-key", ["package"], `missing key "package" (the proto package, e.g. "placement")`, atStart);
    } else {
      pkg = this.stringValue(packageEntry, "a package name");
      if (pkg !== undefined && !PACKAGE.test(pkg)) {
        this.issue(
          "bad-package",
          ["package"],
          `package ${quoteShort(pkg)} is not a proto package: lower-case words of letters, digits and _, joined by dots (e.g. "acme.placement")`,
          packageEntry.valueRange,
        );
        pkg = undefined;
      }
    }
    const doc = this.docValue(get("doc"));

    // Declarations first, so that references anywhere resolve whatever the order of sections.
    const typesEntry = get("types");
    const typesMap = typesEntry ? this.mapValue(typesEntry, "a mapping of type names to definitions", true) : undefined;
    const typeEntries = typesMap !== undefined && typesMap !== "empty" ? this.entries(typesMap, ["types"]) : [];
    for (const e of typeEntries) {
      const form = this.formOf(e.value);
      this.declared.set(e.name, form === "enum" ? "enum" : form === "invalid" ? "invalid" : "message");
    }

    const messages: SpecMessage[] = [];
    const enums: SpecEnum[] = [];
    let typesOk = true;
    for (const e of typeEntries) {
      const t = this.typeDefinition(e);
      if (t === undefined) typesOk = false;
      else if (t.kind === "enum") enums.push(t.value);
      else messages.push(t.value);
    }

    const stateEntry = get("state");
    const stateMap = stateEntry ? this.mapValue(stateEntry, "a mapping of table names to { key, value }", true) : undefined;
    const tableEntries = stateMap !== undefined && stateMap !== "empty" ? this.entries(stateMap, ["state"]) : [];
    const tables: SpecTable[] = [];
    let tablesOk = true;
    for (const e of tableEntries) {
      const t = this.table(e);
      if (t === undefined) tablesOk = false;
      else tables.push(t);
    }

    const methodSection = (name: "commands" | "queries"): { entry?: Entry; entries: Entry[]; methods: SpecMethod[]; ok: boolean; bad: boolean } => {
      const entry = get(name);
      const m = entry ? this.mapValue(entry, `a mapping of ${name === "commands" ? "command" : "query"} names to definitions`, true) : undefined;
      const entries = m !== undefined && m !== "empty" ? this.entries(m, [name]) : [];
      const methods: SpecMethod[] = [];
      let ok = true;
      for (const e of entries) {
        const method = this.method(e, name === "commands" ? "command" : "query");
        if (method === undefined) ok = false;
        else methods.push(method);
      }
      return { ...(entry ? { entry } : {}), entries, methods, ok, bad: entry !== undefined && m === undefined };
    };
    const commands = methodSection("commands");
    const queries = methodSection("queries");

    if (commands.entries.length === 0 && queries.entries.length === 0 && !commands.bad && !queries.bad) {
      const at = commands.entry?.keyRange ?? queries.entry?.keyRange ?? atStart;
      this.issue("empty-spec", [], "the spec has no commands and no queries; declare at least one", at);
    }

    this.checkNamesAcross(tableEntries, commands.entries, queries.entries);
    this.checkGeneratedNames(typeEntries, [...commands.entries, ...queries.entries], serviceEntry);
    this.checkRequiredCycles(messages, typeEntries);
    this.checkEnumValueScope(enums, service);

    if (service === undefined || pkg === undefined || !typesOk || !tablesOk || !commands.ok || !queries.ok) return undefined;
    const sections: { -readonly [k in "service" | "types" | "state" | "commands" | "queries"]?: Range } = {};
    for (const k of ["service", "types", "state", "commands", "queries"] as const) {
      const e = get(k);
      if (e) sections[k] = e.range;
    }
    return {
      service,
      package: pkg,
      ...(doc !== undefined ? { doc } : {}),
      types: messages,
      enums,
      tables,
      commands: commands.methods,
      queries: queries.methods,
      sections,
    };
  }

  // ---------------------------------------------------------------- types

  /** Which form a type definition is written in (see the file comment). */
  private formOf(value: Node | undefined): TypeForm {
    if (!isMap(value)) return "invalid";
    const keys = value.items.map((p) => scalarText(this.deref(p.key)));
    if (keys.includes("enum")) return "enum";
    const fieldsPair = value.items.find((p) => scalarText(this.deref(p.key)) === "fields");
    const inner = fieldsPair ? this.deref(fieldsPair.value) : undefined;
    if (!isMap(inner)) return "short";
    if (keys.every((k) => k === "fields" || k === "doc")) return "long";
    return inner.items.some((p) => scalarText(this.deref(p.key)) === "type") ? "short" : "long";
  }

  private checkTypeName(e: Entry): void {
    if (!PASCAL.test(e.name)) {
      this.issue("not-pascal-case", e.path, `type name ${quoteShort(e.name)} is not PascalCase${didYouMean(toPascal(e.name), PASCAL, e.name)}`, e.keyRange);
      return;
    }
    if (RESERVED_TYPE_NAMES.has(e.name)) {
      this.issue("reserved-word", e.path, `type name "${e.name}" is reserved: the generated TypeScript uses that name`, e.keyRange);
      return;
    }
    const s = this.service;
    if (s !== undefined && [`${s}State`, `${s}ReadState`, `${s}Client`].includes(e.name)) {
      this.issue("reserved-word", e.path, `type name "${e.name}" is reserved: the code generated for service "${s}" declares it`, e.keyRange);
    }
  }

  private typeDefinition(e: Entry): { kind: "message"; value: SpecMessage } | { kind: "enum"; value: SpecEnum } | undefined {
    const before = this.issues.length;
    this.checkTypeName(e);
    const form = this.formOf(e.value);
    if (form === "invalid") {
      if (e.value === undefined) {
        this.issue("missing-value", e.path, `type "${e.name}" has no definition; write {} for an empty message`, e.keyRange);
      } else {
        this.issue(
          "bad-value",
          e.path,
          `type "${e.name}" must be a mapping of fields, { fields, doc } or { enum, doc }; got ${describe(e.value)}`,
          e.valueRange,
        );
      }
      return undefined;
    }
    const map = e.value as YAMLMap;
    if (form === "enum") {
      const entries = this.entries(map, e.path);
      this.checkKeys(entries, ENUM_KEYS, e.path);
      const values = this.enumValues(e, entries.find((x) => x.name === "enum")!);
      const doc = this.docValue(entries.find((x) => x.name === "doc"));
      if (values === undefined || this.issues.length > before) return undefined;
      return { kind: "enum", value: { name: e.name, values, ...(doc !== undefined ? { doc } : {}), range: e.range } };
    }
    let fields: SpecField[];
    let doc: string | undefined;
    if (form === "long") {
      const entries = this.entries(map, e.path);
      this.checkKeys(entries, LONG_TYPE_KEYS, e.path);
      const fieldsEntry = entries.find((x) => x.name === "fields")!;
      fields = this.fields(fieldsEntry.value as YAMLMap, fieldsEntry.path, e.path);
      doc = this.docValue(entries.find((x) => x.name === "doc"));
    } else {
      fields = this.fields(map, e.path, e.path);
    }
    if (this.issues.length > before) return undefined;
    return { kind: "message", value: { name: e.name, fields, ...(doc !== undefined ? { doc } : {}), range: e.range } };
  }

  private enumValues(typeEntry: Entry, e: Entry): { name: string; range: Range }[] | undefined {
    if (e.value === undefined || (isSeq(e.value) && e.value.items.length === 0)) {
      this.issue("empty-enum", e.path, `enum "${typeEntry.name}" has no values; list at least one (the first is the default)`, e.value === undefined ? e.keyRange : e.valueRange);
      return undefined;
    }
    if (!isSeq(e.value)) {
      this.issue("bad-value", e.path, `${formatPath(e.path)} must be a list of value names, e.g. [ACTIVE, DRAINING]; got ${describe(e.value)}`, e.valueRange);
      return undefined;
    }
    const values: { name: string; range: Range }[] = [];
    const seen = new Map<string, number>();
    let ok = true;
    e.value.items.forEach((raw, i) => {
      const path = [...e.path, i];
      const node = this.deref(raw);
      const range = nodeRange((isAlias(raw) ? raw : node) as Node | undefined);
      const name = isScalar(node) ? scalarText(node) : undefined;
      if (name === undefined || name === "") {
        this.issue("bad-value", path, `${formatPath(path)} must be a value name, got ${describe(node)}`, range);
        ok = false;
        return;
      }
      if (!UPPER_SNAKE.test(name)) {
        const fix = didYouMean(toUpperSnake(name), UPPER_SNAKE, name);
        this.issue("not-upper-snake-case", path, `enum value ${quoteShort(name)} in ${formatPath(typeEntry.path)} is not UPPER_SNAKE_CASE${fix}`, range);
        ok = false;
      }
      const prior = seen.get(name);
      if (prior !== undefined) {
        this.issue("duplicate-enum-value", path, `enum value "${name}" appears twice in ${formatPath(typeEntry.path)}`, range);
        ok = false;
        return;
      }
      seen.set(name, i);
      values.push({ name, range });
    });
    return ok ? values : undefined;
  }

  /** The fields of a message or inline payload. `owner` names it in messages. */
  private fields(map: YAMLMap, path: Path, owner: Path): SpecField[] {
    const entries = this.entries(map, path);
    const out: SpecField[] = [];
    const byCamel = new Map<string, Entry>();
    const byNumber = new Map<number, Entry>();
    for (const [i, e] of entries.entries()) {
      // `{ a: map<string, int64> }`: the comma made `int64>` a key; `a` is reported, not this.
      const prev = entries[i - 1];
      if (prev !== undefined && e.inFlow && e.value === undefined && /^[^<]*>$/.test(e.name)) {
        const pv: unknown = isScalar(prev.value) ? prev.value.value : undefined;
        if (typeof pv === "string" && CUT_MAP.test(pv)) continue;
      }
      const checked = this.field(e, owner);
      const camel = camelCase(e.name);
      const prior = byCamel.get(camel);
      if (prior !== undefined) {
        this.issue(
          "case-collision",
          e.path,
          `field "${e.name}" in ${formatPath(owner)} collides with field "${prior.name}": both are "${camel}" in TypeScript`,
          e.keyRange,
        );
      } else {
        byCamel.set(camel, e);
      }
      if (checked?.field.number !== undefined) {
        const n = checked.field.number;
        const same = byNumber.get(n);
        if (same !== undefined) {
          this.issue(
            "duplicate-field-number",
            [...e.path, "number"],
            `field number ${n} of "${e.name}" in ${formatPath(owner)} is already used by field "${same.name}"`,
            checked.numberRange ?? e.keyRange,
          );
        } else {
          byNumber.set(n, e);
        }
      }
      if (checked !== undefined) out.push(checked.field);
    }
    return out;
  }

  /** Snake-case and reserved-word checks of a field, table, command or query name. */
  private checkSnakeName(e: Entry, what: "field" | "table" | "command" | "query", owner?: Path): void {
    const at = owner ? ` in ${formatPath(owner)}` : "";
    if (!SNAKE.test(e.name)) {
      const fix = OBJECT_MEMBERS.has(e.name) ? "" : didYouMean(toSnake(e.name), SNAKE, e.name);
      this.issue("not-snake-case", e.path, `${what} name ${quoteShort(e.name)}${at} is not snake_case${fix}`, e.keyRange);
    }
    const camel = camelCase(e.name);
    if (what === "field" && TS_RESERVED.has(camel)) {
      const as = camel === e.name ? "" : ` (as "${camel}")`;
      this.issue("reserved-word", e.path, `field name "${e.name}"${at} is a reserved word in TypeScript${as}; handlers could not destructure it`, e.keyRange);
    } else if (OBJECT_MEMBERS.has(e.name) || OBJECT_MEMBERS.has(camel)) {
      const as = OBJECT_MEMBERS.has(e.name) ? "" : ` (as "${camel}")`;
      this.issue("reserved-word", e.path, `${what} name "${e.name}"${at} is reserved${as}: every JavaScript object has that property`, e.keyRange);
    } else if ((what === "command" || what === "query") && CLIENT_MEMBERS.has(camel)) {
      this.issue("reserved-word", e.path, `${what} name "${e.name}" is reserved: the generated client has a method "${camel}"`, e.keyRange);
    }
  }

  private field(e: Entry, owner: Path): { field: SpecField; numberRange?: Range } | undefined {
    const before = this.issues.length;
    this.checkSnakeName(e, "field", owner);
    const fieldPath = formatPath(e.path);
    if (e.value === undefined) {
      this.issue("missing-value", e.path, `missing type of field "${e.name}" in ${formatPath(owner)}`, e.keyRange);
      return undefined;
    }
    if (isScalar(e.value)) {
      const type = this.typeRef(e.value, e.valueRange, e.path, fieldPath);
      if (type === undefined || this.issues.length > before) return undefined;
      return { field: { name: e.name, type, optional: false, repeated: false, range: e.range, typeRange: e.valueRange } };
    }
    if (!isMap(e.value)) {
      this.issue(
        "bad-value",
        e.path,
        `field "${e.name}" in ${formatPath(owner)} must be a type name or a mapping { type, optional, repeated, doc, number }; got ${describe(e.value)}`,
        e.valueRange,
      );
      return undefined;
    }
    const entries = this.entries(e.value, e.path);
    this.checkKeys(entries, FIELD_KEYS, e.path);
    const get = (name: string): Entry | undefined => entries.find((x) => x.name === name);
    const typeEntry = get("type");
    let type: SpecTypeRef | undefined;
    if (typeEntry === undefined) {
      this.issue("missing-key", [...e.path, "type"], `missing key "type" in ${fieldPath}`, e.keyRange);
    } else if (typeEntry.value === undefined) {
      this.issue("missing-value", typeEntry.path, `missing value for ${formatPath(typeEntry.path)}; expected a type name`, typeEntry.keyRange);
    } else if (!isScalar(typeEntry.value)) {
      this.issue("bad-value", typeEntry.path, `${formatPath(typeEntry.path)} must be a type name, got ${describe(typeEntry.value)}`, typeEntry.valueRange);
    } else {
      type = this.typeRef(typeEntry.value, typeEntry.valueRange, typeEntry.path, fieldPath);
    }
    const optionalEntry = get("optional");
    const repeatedEntry = get("repeated");
    const optional = this.boolValue(optionalEntry);
    const repeated = this.boolValue(repeatedEntry);
    const doc = this.docValue(get("doc"));
    const numberEntry = get("number");
    const number = this.fieldNumber(numberEntry);
    if (optional === true && repeated === true && optionalEntry && repeatedEntry) {
      const later = optionalEntry.keyRange.start > repeatedEntry.keyRange.start ? optionalEntry : repeatedEntry;
      this.issue("repeated-and-optional", later.path, `field "${e.name}" in ${formatPath(owner)} cannot be both repeated and optional`, later.keyRange);
    }
    // A map type, also when its value type is unknown (that is reported on its own).
    const typeText: unknown = typeEntry?.value && isScalar(typeEntry.value) ? typeEntry.value.value : undefined;
    if (typeof typeText === "string" && /^\s*map\s*</.test(typeText)) {
      for (const [flag, entry] of [
        [repeated, repeatedEntry],
        [optional, optionalEntry],
      ] as const) {
        if (flag === true && entry) {
          this.issue("map-modifier", entry.path, `map field "${e.name}" in ${formatPath(owner)} cannot be ${entry.name}`, entry.keyRange);
        }
      }
    }
    if (type === undefined || this.issues.length > before) return undefined;
    return {
      field: {
        name: e.name,
        type,
        optional: optional ?? false,
        repeated: repeated ?? false,
        ...(number !== undefined ? { number } : {}),
        ...(doc !== undefined ? { doc } : {}),
        range: e.range,
        typeRange: typeEntry!.valueRange,
      },
      ...(numberEntry ? { numberRange: numberEntry.valueRange } : {}),
    };
  }

  private fieldNumber(e: Entry | undefined): number | undefined {
    if (e === undefined) return undefined;
    const expected = `a field number from 1 to ${MAX_FIELD_NUMBER}`;
    const field = formatPath(e.path.slice(0, -1));
    if (e.value === undefined) {
      this.issue("missing-value", e.path, `missing value for ${formatPath(e.path)}; expected ${expected}`, e.keyRange);
      return undefined;
    }
    const v: unknown = isScalar(e.value) ? e.value.value : undefined;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.issue("bad-value", e.path, `${formatPath(e.path)} must be ${expected}, got ${describe(e.value)}`, e.valueRange);
      return undefined;
    }
    if (v < 1 || v > MAX_FIELD_NUMBER) {
      this.issue("number-out-of-range", e.path, `field number ${v} of ${field} is out of range; expected 1 to ${MAX_FIELD_NUMBER}`, e.valueRange);
      return undefined;
    }
    if (v >= PROTOBUF_RESERVED_NUMBERS.from && v <= PROTOBUF_RESERVED_NUMBERS.to) {
      this.issue(
        "number-out-of-range",
        e.path,
        `field number ${v} of ${field} is reserved by protobuf (19000 to 19999)`,
        e.valueRange,
      );
      return undefined;
    }
    return v;
  }

  // ---------------------------------------------------------------- type references

  /** Resolve a scalar or declared name; report an unknown one (with a suggestion). */
  private resolveName(name: string, range: Range, path: Path, at: string, candidates: () => Iterable<string>): NameRef | undefined {
    if (SCALAR_SET.has(name)) return { kind: "scalar", scalar: name as Scalar };
    if (this.declared.has(name)) return { kind: "named", name };
    let hint = "";
    const list = /^(.*)\[\]$/.exec(name) ?? /^(?:list|array|repeated|vec|set)\s*<\s*(.*?)\s*>$/i.exec(name);
    if (list) hint = `; for a list write { type: ${list[1]}, repeated: true }`;
    else {
      const guess = suggest(name, candidates()) ?? TYPE_ALIASES.get(name.toLowerCase());
      if (guess !== undefined) hint = `; did you mean "${guess}"?`;
    }
    this.issue("unknown-type", path, `unknown type ${quoteShort(name)} in ${at}${hint}`, range);
    return undefined;
  }

  private readonly typeCandidates = (): string[] => [...SCALARS, ...this.declared.keys()];

  /** A field's type: a scalar, a declared type or `map<string, T>`. */
  private typeRef(node: Node, range: Range, path: Path, at: string): SpecTypeRef | undefined {
    const v: unknown = isScalar(node) ? node.value : undefined;
    if (typeof v !== "string") {
      this.issue("bad-value", path, `type of ${at} must be a type name, got ${describe(node)}`, range);
      return undefined;
    }
    if (v.trim() === "") {
      this.issue("missing-value", path, `missing type name in ${at}`, range);
      return undefined;
    }
    if (/^\s*map\s*</.test(v) || v === "map") return this.mapType(v, range, path, at);
    return this.resolveName(v, range, path, at, this.typeCandidates);
  }

  private mapType(text: string, range: Range, path: Path, at: string): SpecTypeRef | undefined {
    const shape = `write map<string, T> with T a scalar or a type of types:`;
    if (CUT_MAP.test(text)) {
      this.issue(
        "bad-map-type",
        path,
        `bad map type ${quoteShort(text)} in ${at}; inside { ... } a comma ends a value: quote the type, "map<string, T>"`,
        range,
      );
      return undefined;
    }
    const m = /^\s*map\s*<([\s\S]*)>\s*$/.exec(text);
    const comma = m ? m[1]!.indexOf(",") : -1;
    if (!m || comma < 0) {
      this.issue("bad-map-type", path, `bad map type ${quoteShort(text)} in ${at}; ${shape}`, range);
      return undefined;
    }
    const key = m[1]!.slice(0, comma).trim();
    const value = m[1]!.slice(comma + 1).trim();
    if (key === "" || value === "") {
      this.issue("bad-map-type", path, `bad map type ${quoteShort(text)} in ${at}; ${shape}`, range);
      return undefined;
    }
    if (/^map\s*</.test(value)) {
      this.issue("bad-map-type", path, `map values cannot be maps (${quoteShort(text)} in ${at}); use a message type with a map field`, range);
      return undefined;
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
      this.issue("bad-map-type", path, `bad map type ${quoteShort(text)} in ${at}; ${shape}`, range);
      return undefined;
    }
    let ok = true;
    if (key !== "string") {
      this.issue("map-key-not-string", path, `map key type ${quoteShort(key)} in ${at} must be string`, range);
      ok = false;
    }
    const resolved = this.resolveName(value, range, path, at, this.typeCandidates);
    return ok && resolved !== undefined ? { kind: "map", value: resolved } : undefined;
  }

  // ---------------------------------------------------------------- tables

  private table(e: Entry): SpecTable | undefined {
    const before = this.issues.length;
    this.checkSnakeName(e, "table");
    const map = this.mapValue(e, "a mapping { key, value, doc }", false);
    if (map === undefined || map === "empty") return undefined;
    const entries = this.entries(map, e.path);
    this.checkKeys(entries, TABLE_KEYS, e.path);
    const get = (name: string): Entry | undefined => entries.find((x) => x.name === name);
    const keyTypes = oneOf([...KEY_TYPES]);

    const keyEntry = get("key");
    let key: KeyType | undefined;
    if (keyEntry === undefined) {
      this.issue("missing-key", [...e.path, "key"], `missing key "key" in ${formatPath(e.path)} (the key type: ${keyTypes})`, e.keyRange);
    } else if (keyEntry.value === undefined) {
      this.issue("missing-value", keyEntry.path, `missing value for ${formatPath(keyEntry.path)}; expected ${keyTypes}`, keyEntry.keyRange);
    } else {
      const v: unknown = isScalar(keyEntry.value) ? keyEntry.value.value : undefined;
      if (typeof v === "string" && KEY_TYPE_SET.has(v)) {
        key = v as KeyType;
      } else {
        const what = typeof v === "string" ? `"${v}"` : describe(keyEntry.value);
        const known = typeof v === "string" && (SCALAR_SET.has(v) || this.declared.has(v));
        const guess = typeof v === "string" && !known ? suggest(v, KEY_TYPES) : undefined;
        const hint = guess !== undefined ? `; did you mean "${guess}"?` : "";
        this.issue("bad-table-key", keyEntry.path, `table key type in ${formatPath(e.path)} must be ${keyTypes}, got ${what}${hint}`, keyEntry.valueRange);
      }
    }

    const valueEntry = get("value");
    let value: NameRef | undefined;
    if (valueEntry === undefined) {
      this.issue("missing-key", [...e.path, "value"], `missing key "value" in ${formatPath(e.path)} (the row type)`, e.keyRange);
    } else if (valueEntry.value === undefined) {
      this.issue("missing-value", valueEntry.path, `missing value for ${formatPath(valueEntry.path)}; expected a type name`, valueEntry.keyRange);
    } else if (!isScalar(valueEntry.value)) {
      this.issue(
        "bad-table-value",
        valueEntry.path,
        `table value in ${formatPath(e.path)} must be a type name (a scalar, an enum or a message), got ${describe(valueEntry.value)}; declare the row type under types:`,
        valueEntry.valueRange,
      );
    } else if (typeof valueEntry.value.value !== "string") {
      this.issue("bad-value", valueEntry.path, `${formatPath(valueEntry.path)} must be a type name, got ${describe(valueEntry.value)}`, valueEntry.valueRange);
    } else {
      const name = valueEntry.value.value;
      if (/^\s*map\s*</.test(name)) {
        this.issue(
          "bad-table-value",
          valueEntry.path,
          `table value in ${formatPath(e.path)} cannot be a map; use a message type with a map field`,
          valueEntry.valueRange,
        );
      } else {
        value = this.resolveName(name, valueEntry.valueRange, valueEntry.path, formatPath(valueEntry.path), this.typeCandidates);
      }
    }
    const doc = this.docValue(get("doc"));
    if (key === undefined || value === undefined || this.issues.length > before) return undefined;
    return {
      name: e.name,
      key,
      value,
      ...(doc !== undefined ? { doc } : {}),
      range: e.range,
      keyRange: keyEntry!.valueRange,
      valueRange: valueEntry!.valueRange,
    };
  }

  // ---------------------------------------------------------------- commands and queries

  private method(e: Entry, kind: "command" | "query"): SpecMethod | undefined {
    const before = this.issues.length;
    this.checkSnakeName(e, kind);
    const allowed = kind === "command" ? COMMAND_KEYS : QUERY_KEYS;
    const map = this.mapValue(e, `a mapping { ${allowed.join(", ")} }`, true);
    if (map === undefined) return undefined;
    const entries = map === "empty" ? [] : this.entries(map, e.path);
    this.checkKeys(entries, allowed, e.path, kind === "command" ? ["consistency"] : []);
    const get = (name: string): Entry | undefined => entries.find((x) => x.name === name);
    const inputEntry = get("input");
    const outputEntry = get("output");
    const input = inputEntry ? this.payload(inputEntry) : undefined;
    const output = outputEntry ? this.payload(outputEntry) : undefined;
    const doc = this.docValue(get("doc"));
    const consistencyEntry = get("consistency");
    let consistency: ConsistencyLevel | undefined;
    if (consistencyEntry !== undefined && kind === "command") {
      this.issue(
        "consistency-on-command",
        consistencyEntry.path,
        `consistency applies to queries only; command "${e.name}" is always applied in log order`,
        consistencyEntry.keyRange,
      );
    } else if (consistencyEntry !== undefined) {
      const levels = oneOf([...CONSISTENCY_LEVELS]);
      const v: unknown = consistencyEntry.value && isScalar(consistencyEntry.value) ? consistencyEntry.value.value : undefined;
      if (typeof v === "string" && (CONSISTENCY_LEVELS as readonly string[]).includes(v)) {
        consistency = v as ConsistencyLevel;
      } else if (consistencyEntry.value === undefined) {
        this.issue("missing-value", consistencyEntry.path, `missing value for ${formatPath(consistencyEntry.path)}; expected ${levels}`, consistencyEntry.keyRange);
      } else {
        const what = typeof v === "string" ? quoteShort(v) : describe(consistencyEntry.value);
        const guess = typeof v === "string" ? suggest(v, CONSISTENCY_LEVELS) : undefined;
        const hint = guess !== undefined ? `; did you mean "${guess}"?` : "";
        this.issue("bad-consistency", consistencyEntry.path, `consistency of ${formatPath(e.path)} must be ${levels}, got ${what}${hint}`, consistencyEntry.valueRange);
      }
    }
    if (kind === "query" && outputEntry === undefined) {
      this.issue("query-without-output", e.path, `query "${e.name}" has no output; a query must return something`, e.keyRange);
    }
    if (this.issues.length > before) return undefined;
    return {
      name: e.name,
      ...(input !== undefined ? { input } : {}),
      ...(output !== undefined ? { output } : {}),
      ...(consistency !== undefined ? { consistency } : {}),
      ...(doc !== undefined ? { doc } : {}),
      range: e.range,
    };
  }

  /** A command's or query's input or output: inline fields or the name of a message type. */
  private payload(e: Entry): SpecPayload | undefined {
    const what = `${e.name} of ${formatPath(e.path.slice(0, -1))}`;
    const expected = "a mapping of fields or the name of a message type";
    if (e.value === undefined) {
      this.issue("missing-value", e.path, `missing value for ${formatPath(e.path)}; expected ${expected} ({} for none)`, e.keyRange);
      return undefined;
    }
    if (isMap(e.value)) {
      return { kind: "inline", fields: this.fields(e.value, e.path, e.path), range: e.valueRange };
    }
    const v: unknown = isScalar(e.value) ? e.value.value : undefined;
    if (typeof v !== "string") {
      this.issue("bad-value", e.path, `${formatPath(e.path)} must be ${expected}, got ${describe(e.value)}`, e.valueRange);
      return undefined;
    }
    if (/^\s*map\s*</.test(v)) {
      this.issue("bad-payload", e.path, `${what} must be a message type or a mapping of fields, not a map; wrap it in a field`, e.valueRange);
      return undefined;
    }
    const messageNames = (): string[] => [...SCALARS, ...[...this.declared].filter(([, k]) => k !== "enum").map(([n]) => n)];
    const ref = this.resolveName(v, e.valueRange, e.path, formatPath(e.path), messageNames);
    if (ref === undefined) return undefined;
    if (ref.kind === "scalar") {
      this.issue("bad-payload", e.path, `${what} must be a message type or a mapping of fields; "${v}" is a scalar, wrap it in a field: { value: ${v} }`, e.valueRange);
      return undefined;
    }
    if (this.declared.get(ref.name) === "enum") {
      this.issue("bad-payload", e.path, `${what} must be a message type or a mapping of fields; "${v}" is an enum, wrap it in a field: { value: ${v} }`, e.valueRange);
      return undefined;
    }
    return { kind: "named", name: ref.name, range: e.valueRange };
  }

  // ---------------------------------------------------------------- cross checks

  /** One snake name across commands, queries and tables; no two names of one kind alike in camelCase. */
  private checkNamesAcross(tables: readonly Entry[], commands: readonly Entry[], queries: readonly Entry[]): void {
    const all = [...tables, ...commands, ...queries].sort((a, b) => a.keyRange.start - b.keyRange.start);
    const first = new Map<string, Entry>();
    for (const e of all) {
      const prior = first.get(e.name);
      if (prior === undefined) first.set(e.name, e);
      else this.issue("duplicate-name", e.path, `name "${e.name}" of ${formatPath(e.path)} is already used by ${formatPath(prior.path)}`, e.keyRange);
    }
    // Commands and queries are both methods of the generated client: one namespace.
    for (const group of [[...commands, ...queries], [...tables]]) {
      const byCamel = new Map<string, Entry>();
      for (const e of group.sort((a, b) => a.keyRange.start - b.keyRange.start)) {
        const camel = camelCase(e.name);
        const prior = byCamel.get(camel);
        if (prior === undefined) byCamel.set(camel, e);
        else if (prior.name !== e.name) {
          this.issue(
            "case-collision",
            e.path,
            `name "${e.name}" of ${formatPath(e.path)} collides with ${formatPath(prior.path)}: both are "${camel}" in TypeScript`,
            e.keyRange,
          );
        }
      }
    }
  }

  /** A declared type must not take a name the generator gives to something else. */
  private checkGeneratedNames(types: readonly Entry[], methods: readonly Entry[], serviceEntry: Entry | undefined): void {
    const generated = new Map<string, string>();
    for (const m of [...methods].sort((a, b) => a.keyRange.start - b.keyRange.start)) {
      const p = pascalCase(m.name);
      if (!generated.has(`${p}Input`)) generated.set(`${p}Input`, `the input type generated for ${formatPath(m.path)}`);
      if (!generated.has(`${p}Output`)) generated.set(`${p}Output`, `the output type generated for ${formatPath(m.path)}`);
    }
    const service = serviceEntry?.value && isScalar(serviceEntry.value) ? serviceEntry.value.value : undefined;
    for (const t of types) {
      const owner = generated.get(t.name);
      if (owner !== undefined) {
        this.issue("generated-name-collision", t.path, `type "${t.name}" collides with ${owner}`, t.keyRange);
      } else if (typeof service === "string" && t.name === service) {
        this.issue("generated-name-collision", t.path, `type "${t.name}" has the name of the service; the proto service and message would collide`, t.keyRange);
      }
    }
  }

  /**
   * proto3 scopes enum values like C++: they are siblings of their enum in the package, so one
   * value name in two enums, or a value named like a type or the service, makes an invalid
   * .proto. Reported at the later value.
   */
  private checkEnumValueScope(enums: readonly SpecEnum[], service: string | undefined): void {
    const owner = new Map<string, string>();
    for (const e of enums) {
      e.values.forEach((v, i) => {
        const path = ["types", e.name, "enum", i];
        const first = owner.get(v.name);
        if (first !== undefined) {
          this.issue(
            "enum-value-collision",
            path,
            `enum value "${v.name}" of types.${e.name} is also in types.${first}; proto3 enum values share the package scope, so prefix them (e.g. "${toUpperSnake(e.name)}_${v.name}")`,
            v.range,
          );
        } else if (this.declared.has(v.name) || v.name === service) {
          const what = v.name === service ? "the service" : `type "${v.name}"`;
          this.issue("enum-value-collision", path, `enum value "${v.name}" of types.${e.name} has the name of ${what}; proto3 enum values share the package scope`, v.range);
        } else {
          owner.set(v.name, e.name);
        }
      });
    }
  }

  /**
   * A message must not contain itself through required (not optional, not repeated, not map)
   * message fields: its default value would be infinite. Reports each field on such a cycle.
   */
  private checkRequiredCycles(messages: readonly SpecMessage[], typeEntries: readonly Entry[]): void {
    const edges = new Map<string, { field: SpecField; to: string }[]>();
    for (const m of messages) {
      edges.set(
        m.name,
        m.fields
          .filter((f) => f.type.kind === "named" && !f.optional && !f.repeated && this.declared.get(f.type.name) === "message")
          .map((f) => ({ field: f, to: (f.type as { name: string }).name })),
      );
    }
    const component = stronglyConnected([...edges.keys()], (n) => (edges.get(n) ?? []).map((e) => e.to));
    /** A path of message names from `from` to `to` along required fields, within one component. */
    const route = (from: string, to: string): string[] | undefined => {
      const back = new Map<string, string>([[from, ""]]);
      const queue = [from];
      for (let i = 0; i < queue.length; i++) {
        const at = queue[i]!;
        if (at === to) {
          const out = [at];
          for (let p = back.get(at)!; p !== ""; p = back.get(p)!) out.unshift(p);
          return out;
        }
        for (const { to: next } of edges.get(at) ?? []) {
          if (!back.has(next) && component.get(next) === component.get(from)) {
            back.set(next, at);
            queue.push(next);
          }
        }
      }
      return undefined;
    };
    const entryOf = new Map(typeEntries.map((t) => [t.name, t]));
    for (const m of messages) {
      const entry = entryOf.get(m.name);
      for (const { field, to } of edges.get(m.name) ?? []) {
        if (component.get(to) !== component.get(m.name)) continue;
        const rest = route(to, m.name);
        if (rest === undefined) continue;
        const cycle = [m.name, ...rest].join(" -> ");
        this.issue(
          "recursive-type",
          [...(entry?.path ?? ["types", m.name]), field.name],
          `field "${field.name}" in types.${m.name} makes "${m.name}" contain itself (${cycle}); make it optional or repeated`,
          { start: field.range.start, end: field.range.start + field.name.length },
        );
      }
    }
  }
}

/**
 * Tarjan's strongly connected components, iterative (no recursion on long chains): node ->
 * component id. Two nodes are on a common cycle exactly when they share an id (a node with an
 * edge to itself is on a cycle of its own).
 */
function stronglyConnected(nodes: readonly string[], next: (n: string) => readonly string[]): Map<string, number> {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const component = new Map<string, number>();
  let counter = 0;
  let components = 0;
  for (const root of nodes) {
    if (index.has(root)) continue;
    const work: { node: string; succ: readonly string[]; i: number }[] = [];
    const open = (n: string): void => {
      index.set(n, counter);
      low.set(n, counter);
      counter++;
      stack.push(n);
      onStack.add(n);
      work.push({ node: n, succ: next(n), i: 0 });
    };
    open(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      if (top.i < top.succ.length) {
        const w = top.succ[top.i++]!;
        if (!index.has(w)) open(w);
        else if (onStack.has(w)) low.set(top.node, Math.min(low.get(top.node)!, index.get(w)!));
        continue;
      }
      work.pop();
      if (work.length > 0) {
        const parent = work[work.length - 1]!.node;
        low.set(parent, Math.min(low.get(parent)!, low.get(top.node)!));
      }
      if (low.get(top.node) === index.get(top.node)) {
        for (;;) {
          const w = stack.pop()!;
          onStack.delete(w);
          component.set(w, components);
          if (w === top.node) break;
        }
        components++;
      }
    }
  }
  return component;
}
