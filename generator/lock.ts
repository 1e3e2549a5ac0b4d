// raft.lock.json: the protobuf numbers a spec has been given, and the rules that keep them.
//
// A running cluster holds log entries, snapshots and table rows encoded with the spec of the
// day, so a field's number, once given, is never changed or handed to another field: the lock
// records every number (removed fields' too, under `removed`, forever), every enum value's
// number, each table's key and value type and each command's input and output message.
// `reconcile` compares a validated spec with the lock, numbers what is new, and reports each
// change that would misread existing data as a `breaking-change` issue unless the caller
// passes `allowBreaking` (the `--allow-breaking` flag). `parseLock` is the gateway for the file
// (a hand-edited or merged lock is outside input): it never throws and hands out only locks
// whose invariants hold (numbers unique within a message or enum, a name in at most one of
// `fields`/`removed`). `formatLock` writes it byte-stably (keys sorted, 2-space indent).
//
// This module is pure: no I/O, no YAML. It does not validate the spec (validate.ts has done
// that: names, unknown types, explicit numbers' range) and does not build the IR
// (build-model.ts does, from the numbers returned here).

import { pascalCase, SCALARS, sortBy } from "./model.js";
import type { CheckedSpec, Issue, Range, SpecField, SpecMethod, SpecTypeRef } from "./spec.js";

// ---------------------------------------------------------------------------------------------
// The lock's shape (version 1)

export const LOCK_VERSION = 1;

/** One field as the lock remembers it. `type` is the type as written: scalar, type name, `map<string, T>`. */
export interface LockField {
  readonly number: number;
  readonly type: string;
  readonly repeated: boolean;
}

/**
 * A message: a named type or a generated `<Method>Input` / `<Method>Output`.
 * Invariant: a name is in at most one of `fields` and `removed`; numbers are unique across both.
 */
export interface LockMessage {
  readonly fields: Readonly<Record<string, LockField>>;
  /** Fields no longer in the spec; their numbers are never given to another field. */
  readonly removed: Readonly<Record<string, LockField>>;
}

/** An enum. Invariant: a name in at most one of `values` and `removed`; numbers unique across both. */
export interface LockEnum {
  readonly values: Readonly<Record<string, number>>;
  readonly removed: Readonly<Record<string, number>>;
}

export interface LockTable {
  readonly key: string;
  readonly value: string;
}

export interface LockMethod {
  /** Message names: a generated `<Method>Input` or a named type. */
  readonly input: string;
  readonly output: string;
}

export interface Lock {
  readonly version: 1;
  readonly messages: Readonly<Record<string, LockMessage>>;
  readonly enums: Readonly<Record<string, LockEnum>>;
  readonly tables: Readonly<Record<string, LockTable>>;
  readonly commands: Readonly<Record<string, LockMethod>>;
  readonly queries: Readonly<Record<string, LockMethod>>;
}

/** The lock of a project that has never been built. */
export function emptyLock(): Lock {
  return { version: LOCK_VERSION, messages: {}, enums: {}, tables: {}, commands: {}, queries: {} };
}

/** Highest protobuf field number; 19000-19999 are reserved by protobuf itself. */
export const MAX_FIELD_NUMBER = 536_870_911;
const PROTO_RESERVED_FIRST = 19_000;
const PROTO_RESERVED_LAST = 19_999;
const MAX_ENUM_NUMBER = 2_147_483_647;

/** Own-property lookup: lock keys come from a file, and `constructor` must not find Object's. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

// ---------------------------------------------------------------------------------------------
// Types as written, and which changes old data survives

/** The lock's spelling of a type: `uint64`, `BrokerNode`, `map<string, BrokerNode>`. */
export function lockType(t: SpecTypeRef): string {
  switch (t.kind) {
    case "scalar":
      return t.scalar;
    case "named":
      return t.name;
    case "map":
      return `map<string, ${t.value.kind === "scalar" ? t.value.scalar : t.value.name}>`;
  }
}

/** Wire-compatible widenings: data written as the first decodes exactly as the second. */
const WIDENINGS = new Set(["int32>int64", "uint32>uint64", "uint32>int64", "string>bytes"]);

function mapValueType(t: string): string | undefined {
  const m = /^map<string, (.+)>$/.exec(t);
  return m ? m[1] : undefined;
}

/**
 * Whether data written with type `from` reads correctly as type `to` (both as the lock spells
 * them): the same type, a widening (int32->int64, uint32->uint64, uint32->int64, string->bytes),
 * or maps whose value types are so related. `optional` is not part of the type: toggling it is
 * always compatible; `repeated` is checked separately.
 */
export function isCompatibleType(from: string, to: string): boolean {
  if (from === to || WIDENINGS.has(`${from}>${to}`)) return true;
  const a = mapValueType(from);
  const b = mapValueType(to);
  return a !== undefined && b !== undefined && isCompatibleType(a, b);
}

// ---------------------------------------------------------------------------------------------
// The messages of a spec: named types and the generated payloads

/** A message the spec defines, with where it comes from. */
export interface MessageSite {
  /** `BrokerNode`, `SetInput`, `SetOutput`. */
  readonly name: string;
  /** In spec order; empty for a generated empty payload. */
  readonly fields: readonly SpecField[];
  readonly doc?: string;
  /** `types.BrokerNode`, `commands.set.input`, or `commands.set` for an absent payload. */
  readonly source: string;
  readonly range: Range;
  /** True for a `<Method>Input` / `<Method>Output` the generator makes (inline or absent payload). */
  readonly generated: boolean;
}

/** The message a method's input or output is: the named type, or `<Method>Input` / `<Method>Output`. */
export function payloadName(method: SpecMethod, io: "input" | "output"): string {
  const payload = method[io];
  if (payload?.kind === "named") return payload.name;
  return pascalCase(method.name) + (io === "input" ? "Input" : "Output");
}

/**
 * Every message of a spec, in spec order: the named types of `types:`, then for each command
 * and query its inline or absent input and output (named payloads are already among the types).
 */
export function specMessages(spec: CheckedSpec): MessageSite[] {
  const sites: MessageSite[] = spec.types.map((t) => ({
    name: t.name,
    fields: t.fields,
    ...(t.doc !== undefined ? { doc: t.doc } : {}),
    source: `types.${t.name}`,
    range: t.range,
    generated: false,
  }));
  const methods: [string, readonly SpecMethod[]][] = [
    ["commands", spec.commands],
    ["queries", spec.queries],
  ];
  for (const [section, list] of methods) {
    for (const m of list) {
      for (const io of ["input", "output"] as const) {
        const payload = m[io];
        if (payload?.kind === "named") continue;
        sites.push({
          name: payloadName(m, io),
          fields: payload ? payload.fields : [],
          source: payload ? `${section}.${m.name}.${io}` : `${section}.${m.name}`,
          range: payload ? payload.range : m.range,
          generated: true,
        });
      }
    }
  }
  return sites;
}

// ---------------------------------------------------------------------------------------------
// reconcile: the spec against the lock

/** The numbers of a spec: message -> field -> number, enum -> value -> number. */
export interface Numbering {
  readonly messages: ReadonlyMap<string, ReadonlyMap<string, number>>;
  readonly enums: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

export interface ReconcileResult {
  readonly numbers: Numbering;
  /** The lock to write, when `issues` is empty. */
  readonly lock: Lock;
  /** `breaking-change` (none with allowBreaking) and `duplicate-number`, sorted by position. */
  readonly issues: Issue[];
}

const ACCEPT = "(pass --allow-breaking to accept)";

/** The next automatic field number after `n`, skipping protobuf's reserved 19000-19999. */
function nextFieldNumber(n: number): number {
  const next = n + 1;
  return next >= PROTO_RESERVED_FIRST && next <= PROTO_RESERVED_LAST ? PROTO_RESERVED_LAST + 1 : next;
}

function pathOf(source: string): string[] {
  return source.split(".");
}

/** The whole document as far as the spec knows it: for removals when a section is gone. */
function documentRange(spec: CheckedSpec): Range {
  let end = 0;
  const all: Range[] = [
    ...Object.values(spec.sections).filter((r): r is Range => r !== undefined),
    ...spec.types.map((t) => t.range),
    ...spec.enums.map((e) => e.range),
    ...spec.tables.map((t) => t.range),
    ...spec.commands.map((c) => c.range),
    ...spec.queries.map((q) => q.range),
  ];
  for (const r of all) end = Math.max(end, r.end);
  return { start: 0, end };
}

/**
 * Compare `spec` with `lock` (undefined: never built) and number everything.
 *
 * - A field keeps its locked number; a new field gets its explicit `number`, else
 *   max(every number the message ever used, every explicit number) + 1, in spec order.
 * - A field no longer in the spec moves to `removed`; a removed name that comes back with a
 *   compatible type gets its old number back.
 * - Enum values keep their numbers; a new value gets max(ever used) + 1 wherever it is inserted;
 *   the first value of a new enum is 0.
 * - A message whose name is new but that replaces a command's or query's previous input/output
 *   starts from that message's numbers; a command whose payload changes to a message that is
 *   already locked is checked field by field against the old one.
 * - A message or enum gone from the spec stays in the lock with everything under `removed`
 *   (a type may come back), except a message that was only ever a query's payload.
 *
 * Refused changes are `breaking-change` issues on the offending spec node unless
 * `allowBreaking`; two fields of one message with the same number are `duplicate-number`
 * whatever the options. The returned lock always reflects the spec (with allowBreaking it is
 * the one to write); when there are issues, callers must not write it.
 */
export function reconcile(spec: CheckedSpec, lock: Lock | undefined, opts: { readonly allowBreaking: boolean }): ReconcileResult {
  const old = lock ?? emptyLock();
  const issues: Issue[] = [];
  const breaking = (range: Range, path: readonly (string | number)[], message: string): void => {
    if (!opts.allowBreaking) issues.push({ code: "breaking-change", path, message: `${message} ${ACCEPT}`, range });
  };

  const messageNumbers = new Map<string, Map<string, number>>();
  const enumNumbers = new Map<string, Map<string, number>>();
  const newMessages: Record<string, LockMessage> = {};
  const newEnums: Record<string, LockEnum> = {};
  const newTables: Record<string, LockTable> = {};
  const newCommands: Record<string, LockMethod> = {};
  const newQueries: Record<string, LockMethod> = {};

  // Payload changes: a method whose input or output is now another message than the lock says.
  interface PayloadChange {
    readonly section: "commands" | "queries";
    readonly method: SpecMethod;
    readonly io: "input" | "output";
    readonly from: string;
    readonly to: string;
  }
  const changes: PayloadChange[] = [];
  const seeds = new Map<string, string>(); // new message name -> old message it starts from
  const sections = [
    ["commands", sortBy(spec.commands, (m) => m.name), old.commands],
    ["queries", sortBy(spec.queries, (m) => m.name), old.queries],
  ] as const;
  for (const [section, methods, oldMethods] of sections) {
    for (const m of methods) {
      const prev = own(oldMethods, m.name);
      if (prev === undefined) continue;
      for (const io of ["input", "output"] as const) {
        const to = payloadName(m, io);
        const from = prev[io];
        if (to === from) continue;
        changes.push({ section, method: m, io, from, to });
        if (own(old.messages, to) === undefined && own(old.messages, from) !== undefined && !seeds.has(to)) seeds.set(to, from);
      }
    }
  }

  // Messages.
  const sites = sortBy(specMessages(spec), (s) => s.name);
  const siteNames = new Set(sites.map((s) => s.name));
  const baseOf = new Map<string, string>(); // message -> the lock message its numbers came from
  for (const site of sites) {
    const baseName = own(old.messages, site.name) !== undefined ? site.name : seeds.get(site.name);
    const base = baseName !== undefined ? own(old.messages, baseName) : undefined;
    if (baseName !== undefined) baseOf.set(site.name, baseName);
    const { numbers, entry } = reconcileMessage(site, base, baseName, breaking, issues);
    messageNumbers.set(site.name, numbers);
    newMessages[site.name] = entry;
  }

  // A command whose payload is now an already-locked message: same name, same number, compatible type.
  for (const c of changes) {
    if (c.section !== "commands" || baseOf.get(c.to) === c.from) continue;
    const before = own(old.messages, c.from);
    const site = sites.find((s) => s.name === c.to);
    const numbers = messageNumbers.get(c.to);
    if (before === undefined || site === undefined || numbers === undefined) continue;
    const byName = new Map<string, LockField>([...Object.entries(before.fields), ...Object.entries(before.removed)]);
    const byNumber = new Map<number, string>([...byName].map(([name, f]) => [f.number, name]));
    const payload = c.method[c.io];
    const range = payload !== undefined ? payload.range : c.method.range;
    const path = ["commands", c.method.name, c.io];
    const what = `commands.${c.method.name}.${c.io} changed from ${c.from} to ${c.to}:`;
    const misread = `existing ${c.method.name} ${c.io === "input" ? "entries" : "results"} would be misread`;
    for (const f of site.fields) {
      const n = numbers.get(f.name);
      if (n === undefined) continue;
      const prev = byName.get(f.name);
      const type = lockType(f.type);
      if (prev !== undefined && prev.number !== n) {
        breaking(range, path, `${what} field ${f.name} is number ${n} in ${c.to} but ${prev.number} in ${c.from}; ${misread}`);
      } else if (prev !== undefined && (!isCompatibleType(prev.type, type) || prev.repeated !== f.repeated)) {
        breaking(range, path, `${what} field ${f.name} is ${describe(type, f.repeated)} in ${c.to} but ${describe(prev.type, prev.repeated)} in ${c.from}; ${misread}`);
      } else if (prev === undefined && byNumber.has(n)) {
        breaking(range, path, `${what} number ${n} is ${f.name} in ${c.to} but ${byNumber.get(n)} in ${c.from}; ${misread}`);
      }
    }
  }

  // Messages gone from the spec stay (all fields removed) unless they were only ever a query's payload.
  const referenced = referencedOutsideQueries(old);
  const queryPayloads = new Set(Object.values(old.queries).flatMap((q) => [q.input, q.output]));
  for (const [name, entry] of Object.entries(old.messages)) {
    if (siteNames.has(name)) continue;
    if (queryPayloads.has(name) && !referenced.has(name)) continue;
    const removed = { ...entry.removed, ...entry.fields };
    if (Object.keys(removed).length > 0) newMessages[name] = { fields: {}, removed };
  }

  // A type name that switched between message and enum: fields of that type would be misread
  // (the lock spells both by name, so the field-level check cannot see it).
  for (const t of spec.types) {
    if (own(old.enums, t.name) !== undefined && own(old.messages, t.name) === undefined) {
      breaking(t.range, ["types", t.name], `types.${t.name}: was an enum in raft.lock.json and is now a message; existing data of type ${t.name} would be misread`);
    }
  }
  for (const e of spec.enums) {
    if (own(old.messages, e.name) !== undefined && own(old.enums, e.name) === undefined) {
      breaking(e.range, ["types", e.name], `types.${e.name}: was a message in raft.lock.json and is now an enum; existing data of type ${e.name} would be misread`);
    }
  }

  // Enums.
  for (const e of sortBy(spec.enums, (x) => x.name)) {
    const base = own(old.enums, e.name);
    const values = new Map(Object.entries(base?.values ?? {}));
    const removed = new Map(Object.entries(base?.removed ?? {}));
    const numbers = new Map<string, number>();
    let max = -1;
    for (const n of [...values.values(), ...removed.values()]) max = Math.max(max, n);
    for (const v of e.values) {
      const known = values.get(v.name) ?? removed.get(v.name);
      numbers.set(v.name, known ?? ++max);
    }
    // proto3 needs a value numbered 0 (the default): if the spec lost it, its first value takes 0.
    const first = e.values[0]?.name;
    const zeroTaken = [...numbers.values()].includes(0);
    if (first !== undefined && !zeroTaken) numbers.set(first, 0);
    const path = ["types", e.name];
    for (const [name, n] of values) {
      if (numbers.has(name)) continue;
      if (n === 0 && first !== undefined) {
        breaking(e.range, path, `enum ${e.name}: value ${name} (number 0, the default) was removed; existing data holding it would be read as ${first}, which would take number 0`);
      } else {
        breaking(e.range, path, `enum ${e.name}: value ${name} (number ${n}) was removed; existing data holding it could not be read`);
      }
    }
    for (const [name, n] of removed) {
      if (n === 0 && first !== undefined && !zeroTaken && !numbers.has(name)) {
        breaking(e.range, path, `enum ${e.name}: number 0 (the default) belonged to the removed value ${name}; ${first} would take it and existing data holding ${name} would be read as ${first}`);
      }
    }
    const taken = new Set(numbers.values());
    const nextRemoved: Record<string, number> = {};
    for (const [name, n] of [...removed, ...values]) {
      if (!numbers.has(name) && !taken.has(n)) nextRemoved[name] = n;
    }
    enumNumbers.set(e.name, numbers);
    newEnums[e.name] = { values: Object.fromEntries(numbers), removed: nextRemoved };
  }
  const enumNames = new Set(spec.enums.map((e) => e.name));
  for (const [name, entry] of Object.entries(old.enums)) {
    if (enumNames.has(name)) continue;
    const removed = { ...entry.removed, ...entry.values };
    if (Object.keys(removed).length > 0) newEnums[name] = { values: {}, removed };
  }

  // Tables.
  for (const t of spec.tables) {
    const value = t.value.kind === "scalar" ? t.value.scalar : t.value.name;
    const prev = own(old.tables, t.name);
    if (prev !== undefined && prev.key !== t.key) {
      breaking(t.keyRange, ["state", t.name, "key"], `table ${t.name}: key type changed from ${prev.key} to ${t.key}; existing rows are stored under ${prev.key} keys and would be misread`);
    }
    if (prev !== undefined && !isCompatibleType(prev.value, value)) {
      breaking(t.valueRange, ["state", t.name, "value"], `table ${t.name}: value type changed from ${prev.value} to ${value}; existing rows written as ${prev.value} would be misread`);
    }
    newTables[t.name] = { key: t.key, value };
  }
  const tableNames = new Set(spec.tables.map((t) => t.name));
  for (const name of Object.keys(old.tables).sort()) {
    if (tableNames.has(name)) continue;
    breaking(spec.sections.state ?? documentRange(spec), ["state", name], `table ${name} was removed; its stored rows would be left behind and misread if a table ${name} came back`);
  }

  // Commands and queries. A removed query is fine (queries leave nothing in the log).
  for (const m of spec.commands) newCommands[m.name] = { input: payloadName(m, "input"), output: payloadName(m, "output") };
  for (const m of spec.queries) newQueries[m.name] = { input: payloadName(m, "input"), output: payloadName(m, "output") };
  const commandNames = new Set(spec.commands.map((m) => m.name));
  for (const name of Object.keys(old.commands).sort()) {
    if (commandNames.has(name)) continue;
    breaking(spec.sections.commands ?? documentRange(spec), ["commands", name], `command ${name} was removed; the log may still hold ${name} entries, which could no longer be applied`);
  }

  issues.sort((a, b) => a.range.start - b.range.start || (a.message < b.message ? -1 : a.message > b.message ? 1 : 0));
  return {
    numbers: { messages: messageNumbers, enums: enumNumbers },
    lock: { version: LOCK_VERSION, messages: newMessages, enums: newEnums, tables: newTables, commands: newCommands, queries: newQueries },
    issues,
  };
}

function describe(type: string, repeated: boolean): string {
  return repeated ? `repeated ${type}` : type;
}

/** Message names the lock uses other than as a query's payload: commands, tables, field types. */
function referencedOutsideQueries(lock: Lock): Set<string> {
  const names = new Set<string>();
  for (const c of Object.values(lock.commands)) names.add(c.input).add(c.output);
  for (const t of Object.values(lock.tables)) names.add(t.value);
  for (const m of Object.values(lock.messages)) {
    for (const f of [...Object.values(m.fields), ...Object.values(m.removed)]) names.add(mapValueType(f.type) ?? f.type);
  }
  return names;
}

/** Number one message's fields against its lock entry (`base`, from lock message `baseName`). */
function reconcileMessage(
  site: MessageSite,
  base: LockMessage | undefined,
  baseName: string | undefined,
  breaking: (range: Range, path: readonly (string | number)[], message: string) => void,
  issues: Issue[],
): { numbers: Map<string, number>; entry: LockMessage } {
  const fields = new Map(Object.entries(base?.fields ?? {}));
  const removed = new Map(Object.entries(base?.removed ?? {}));
  const inLock = baseName === undefined || baseName === site.name ? "raft.lock.json" : `raft.lock.json (as ${baseName}.*)`;

  // Numbers: the explicit one, else the locked one (current or removed), else the next free.
  let max = 0;
  for (const f of [...fields.values(), ...removed.values()]) max = Math.max(max, f.number);
  for (const f of site.fields) if (f.number !== undefined) max = Math.max(max, f.number);
  const numbers = new Map<string, number>();
  for (const f of site.fields) {
    const locked = fields.get(f.name) ?? removed.get(f.name);
    if (f.number !== undefined) numbers.set(f.name, f.number);
    else if (locked !== undefined) numbers.set(f.name, locked.number);
    else numbers.set(f.name, (max = nextFieldNumber(max)));
  }

  // Two fields with one number: never acceptable.
  const owners = new Map<number, string>();
  const duplicates = new Set<string>();
  for (const f of site.fields) {
    const n = numbers.get(f.name) as number;
    const other = owners.get(n);
    if (other !== undefined) {
      duplicates.add(f.name);
      issues.push({
        code: "duplicate-number",
        path: [...pathOf(site.source), f.name],
        message: `${site.source}.${f.name}: number ${n} is already used by field ${other}`,
        range: f.range,
      });
    } else {
      owners.set(n, f.name);
    }
  }

  // Changes that would misread data written with the lock's numbers.
  const lockedOwner = new Map<number, [string, LockField]>();
  for (const [name, f] of [...fields, ...removed]) lockedOwner.set(f.number, [name, f]);
  for (const f of site.fields) {
    const src = `${site.source}.${f.name}`;
    const path = [...pathOf(site.source), f.name];
    const type = lockType(f.type);
    const n = numbers.get(f.name) as number;
    const current = fields.get(f.name);
    const gone = removed.get(f.name);
    if (current !== undefined) {
      if (n !== current.number) {
        breaking(f.range, path, `${src}: number ${n} differs from ${current.number}, its number in ${inLock}; existing data under number ${current.number} would no longer be read as ${f.name}`);
      }
      if (!isCompatibleType(current.type, type)) {
        breaking(f.typeRange, path, `${src}: type changed from ${current.type} to ${type}; existing data written as ${current.type} would be misread`);
      } else if (current.repeated !== f.repeated) {
        breaking(f.range, path, `${src}: ${f.repeated ? "became repeated" : "is no longer repeated"}; existing data written as ${describe(current.type, current.repeated)} would be misread`);
      }
    } else if (gone !== undefined) {
      if (n !== gone.number) {
        breaking(f.range, path, `${src}: number ${n} differs from ${gone.number}, the number the removed field ${f.name} had in ${inLock}; existing data under number ${gone.number} would no longer be read as ${f.name}`);
      }
      if (!isCompatibleType(gone.type, type) || gone.repeated !== f.repeated) {
        breaking(f.typeRange, path, `${src}: the removed field ${f.name} (number ${gone.number}) was ${describe(gone.type, gone.repeated)}; re-adding it as ${describe(type, f.repeated)} would misread existing data`);
      }
    } else if (f.number !== undefined && !duplicates.has(f.name)) {
      const prev = lockedOwner.get(n);
      if (prev !== undefined && !(numbers.get(prev[0]) === n)) {
        const [name, lf] = prev;
        const status = removed.has(name) || !site.fields.some((x) => x.name === name) ? "the removed field" : "field";
        breaking(f.range, path, `${src}: number ${n} was ${status} ${name} (${describe(lf.type, lf.repeated)}) in ${inLock}; existing data would be misread as ${f.name}`);
      }
    }
  }

  // The new entry: spec fields, and every other locked field under `removed` unless its number
  // now belongs to a spec field (a breaking change the caller accepted, or a duplicate).
  const specNames = new Set(site.fields.map((f) => f.name));
  const taken = new Set(numbers.values());
  const nextFields: Record<string, LockField> = {};
  for (const f of site.fields) nextFields[f.name] = { number: numbers.get(f.name) as number, type: lockType(f.type), repeated: f.repeated };
  const nextRemoved: Record<string, LockField> = {};
  for (const [name, f] of [...removed, ...fields]) {
    if (!specNames.has(name) && !taken.has(f.number)) nextRemoved[name] = f;
  }
  return { numbers, entry: { fields: nextFields, removed: nextRemoved } };
}

// ---------------------------------------------------------------------------------------------
// formatLock: byte-stable output

/** The lock as written to disk: keys sorted (code units) at every level, 2-space indent, trailing newline. */
export function formatLock(lock: Lock): string {
  return `${formatJson(lock, "")}\n`;
}

function formatJson(value: unknown, indent: string): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    return `[\n${value.map((v) => inner + formatJson(v, inner)).join(",\n")}\n${indent}]`;
  }
  const keys = Object.keys(value).sort();
  if (keys.length === 0) return "{}";
  const record = value as Record<string, unknown>;
  return `{\n${keys.map((k) => `${inner}${JSON.stringify(k)}: ${formatJson(record[k], inner)}`).join(",\n")}\n${indent}}`;
}

// ---------------------------------------------------------------------------------------------
// parseLock: the gateway for raft.lock.json

/** A JSON value with the offsets it spans in the text. */
type JsonNode = { readonly start: number; readonly end: number } & (
  | { readonly kind: "object"; readonly entries: readonly { readonly key: string; readonly keyStart: number; readonly keyEnd: number; readonly value: JsonNode }[] }
  | { readonly kind: "array"; readonly items: readonly JsonNode[] }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "boolean"; readonly value: boolean }
  | { readonly kind: "null" }
);

class JsonSyntaxError extends Error {
  constructor(
    message: string,
    readonly at: number,
  ) {
    super(message);
  }
}

const MAX_JSON_DEPTH = 64;
const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Strict JSON (RFC 8259) with positions; duplicate keys are errors. Throws JsonSyntaxError only. */
function parseJson(text: string): JsonNode {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const skip = (): void => {
    while (i < text.length && " \t\n\r".includes(text[i] as string)) i++;
  };
  const found = (): string => (i >= text.length ? "end of file" : `${JSON.stringify(text[i])}`);
  const expect = (c: string, what: string): void => {
    if (text[i] !== c) throw new JsonSyntaxError(`expected ${what}, found ${found()}`, i);
    i++;
  };
  const parseString = (): { value: string; start: number; end: number } => {
    const start = i;
    expect('"', "a string");
    let out = "";
    for (;;) {
      if (i >= text.length) throw new JsonSyntaxError("unterminated string", start);
      const c = text[i] as string;
      if (c === '"') break;
      if (c.charCodeAt(0) < 0x20) throw new JsonSyntaxError("control character in a string", i);
      if (c !== "\\") {
        out += c;
        i++;
        continue;
      }
      const e = text[i + 1];
      const simple: Record<string, string> = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
      if (e !== undefined && Object.hasOwn(simple, e)) {
        out += simple[e];
        i += 2;
      } else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
        out += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
        i += 6;
      } else {
        throw new JsonSyntaxError("bad escape in a string", i);
      }
    }
    i++;
    return { value: out, start, end: i };
  };
  const parseValue = (depth: number): JsonNode => {
    if (depth > MAX_JSON_DEPTH) throw new JsonSyntaxError("nested too deeply", i);
    skip();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      const entries: { key: string; keyStart: number; keyEnd: number; value: JsonNode }[] = [];
      const seen = new Set<string>();
      skip();
      if (text[i] === "}") {
        i++;
        return { kind: "object", entries, start, end: i };
      }
      for (;;) {
        skip();
        const key = parseString();
        if (seen.has(key.value)) throw new JsonSyntaxError(`duplicate key ${JSON.stringify(key.value)}`, key.start);
        seen.add(key.value);
        skip();
        expect(":", "':'");
        const value = parseValue(depth + 1);
        entries.push({ key: key.value, keyStart: key.start, keyEnd: key.end, value });
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        expect("}", "',' or '}'");
        return { kind: "object", entries, start, end: i };
      }
    }
    if (c === "[") {
      i++;
      const items: JsonNode[] = [];
      skip();
      if (text[i] === "]") {
        i++;
        return { kind: "array", items, start, end: i };
      }
      for (;;) {
        items.push(parseValue(depth + 1));
        skip();
        if (text[i] === ",") {
          i++;
          continue;
        }
        expect("]", "',' or ']'");
        return { kind: "array", items, start, end: i };
      }
    }
    if (c === '"') {
      const s = parseString();
      return { kind: "string", value: s.value, start, end: s.end };
    }
    for (const [word, node] of [
      ["true", { kind: "boolean", value: true }],
      ["false", { kind: "boolean", value: false }],
      ["null", { kind: "null" }],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return { ...node, start, end: i };
      }
    }
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (m !== null) {
      i += m[0].length;
      return { kind: "number", value: Number(m[0]), start, end: i };
    }
    throw new JsonSyntaxError(`expected a value, found ${found()}`, i);
  };
  const root = parseValue(0);
  skip();
  if (i < text.length) throw new JsonSyntaxError(`unexpected ${found()} after the end of the data`, i);
  return root;
}

const PASCAL_RE = /^[A-Z][a-zA-Z0-9]*$/;
const SNAKE_RE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
const UPPER_RE = /^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$/;
const SCALAR_SET: ReadonlySet<string> = new Set(SCALARS);

function isLockType(t: string): boolean {
  const value = mapValueType(t) ?? t;
  return SCALAR_SET.has(value) || PASCAL_RE.test(value);
}

/**
 * Read raft.lock.json. Never throws: bad JSON, a version other than 1, or a shape that is not
 * the lock's gives issues (codes `lock-syntax`, `lock-version`, `lock-shape`) whose ranges are
 * offsets into `text` (the lock, not the spec) and whose path is the JSON path. `lock` is set
 * only when there are no issues. `file` names the lock in messages.
 */
export function parseLock(text: string, file: string): { lock?: Lock; issues: Issue[] } {
  let root: JsonNode;
  try {
    root = parseJson(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    return { issues: [{ code: "lock-syntax", path: [], message: `${file} is not valid JSON: ${err.message}`, range: { start: err.at, end: Math.min(err.at + 1, text.length) } }] };
  }
  const issues: Issue[] = [];
  const bad = (node: { start: number; end: number }, path: readonly (string | number)[], message: string, code = "lock-shape"): void => {
    issues.push({ code, path, message: path.length > 0 ? `${path.join(".")}: ${message}` : message, range: { start: node.start, end: node.end } });
  };

  /** The entries of an object node, or undefined (with an issue) when it is something else. */
  const object = (node: JsonNode, path: readonly string[]): readonly { key: string; keyStart: number; keyEnd: number; value: JsonNode }[] | undefined => {
    if (node.kind === "object") return node.entries;
    bad(node, path, "expected an object");
    return undefined;
  };
  /** A map keyed by names matching `re`, each value read by `read`. */
  const record = <T>(node: JsonNode, path: readonly string[], re: RegExp, what: string, read: (v: JsonNode, p: string[]) => T | undefined): Record<string, T> => {
    const out: Record<string, T> = {};
    for (const e of object(node, path) ?? []) {
      if (!re.test(e.key)) {
        bad({ start: e.keyStart, end: e.keyEnd }, path, `${JSON.stringify(e.key)} is not a valid ${what} name`);
        continue;
      }
      const v = read(e.value, [...path, e.key]);
      if (v !== undefined) out[e.key] = v;
    }
    return out;
  };
  /** An object with exactly the keys of `spec` (those marked optional may be missing). */
  const struct = (node: JsonNode, path: readonly string[], keys: readonly string[], optional: readonly string[] = []): Map<string, JsonNode> | undefined => {
    const entries = object(node, path);
    if (entries === undefined) return undefined;
    const out = new Map<string, JsonNode>();
    let ok = true;
    for (const e of entries) {
      if (!keys.includes(e.key)) {
        bad({ start: e.keyStart, end: e.keyEnd }, path, `unknown key ${JSON.stringify(e.key)} (expected ${keys.join(", ")})`);
        ok = false;
      } else out.set(e.key, e.value);
    }
    for (const k of keys) {
      if (!out.has(k) && !optional.includes(k)) {
        bad(node, path, `missing key ${JSON.stringify(k)}`);
        ok = false;
      }
    }
    return ok ? out : undefined;
  };
  const integer = (node: JsonNode, path: readonly string[], min: number, max: number): number | undefined => {
    if (node.kind === "number" && Number.isInteger(node.value) && node.value >= min && node.value <= max) return node.value;
    bad(node, path, `expected an integer from ${min} to ${max}`);
    return undefined;
  };
  const string = (node: JsonNode, path: readonly string[], ok: (s: string) => boolean, what: string): string | undefined => {
    if (node.kind === "string" && ok(node.value)) return node.value;
    bad(node, path, `expected ${what}`);
    return undefined;
  };
  const boolean = (node: JsonNode, path: readonly string[]): boolean | undefined => {
    if (node.kind === "boolean") return node.value;
    bad(node, path, "expected true or false");
    return undefined;
  };
  /** Numbers unique across two maps, names in at most one of them. */
  const distinct = (node: JsonNode, path: readonly string[], a: Record<string, number>, b: Record<string, number>, what: string): void => {
    const byNumber = new Map<number, string>();
    for (const [name, n] of [...Object.entries(a), ...Object.entries(b)]) {
      const other = byNumber.get(n);
      if (other !== undefined) bad(node, path, `${what}s ${other} and ${name} have the same number ${n}`);
      byNumber.set(n, name);
    }
    for (const name of Object.keys(a)) if (Object.hasOwn(b, name)) bad(node, path, `${what} ${name} is both current and removed`);
  };

  const readField = (node: JsonNode, path: string[]): LockField | undefined => {
    const s = struct(node, path, ["number", "type", "repeated"]);
    if (s === undefined) return undefined;
    const number = integer(s.get("number") as JsonNode, [...path, "number"], 1, MAX_FIELD_NUMBER);
    const type = string(s.get("type") as JsonNode, [...path, "type"], isLockType, "a type (a scalar, a type name or map<string, T>)");
    const repeated = boolean(s.get("repeated") as JsonNode, [...path, "repeated"]);
    if (number !== undefined && number >= PROTO_RESERVED_FIRST && number <= PROTO_RESERVED_LAST) {
      bad(s.get("number") as JsonNode, [...path, "number"], "numbers 19000-19999 are reserved by protobuf");
      return undefined;
    }
    return number === undefined || type === undefined || repeated === undefined ? undefined : { number, type, repeated };
  };
  const readMessage = (node: JsonNode, path: string[]): LockMessage | undefined => {
    const s = struct(node, path, ["fields", "removed"], ["fields", "removed"]);
    if (s === undefined) return undefined;
    const fieldsNode = s.get("fields");
    const removedNode = s.get("removed");
    const fields = fieldsNode ? record(fieldsNode, [...path, "fields"], SNAKE_RE, "field", readField) : {};
    const removed = removedNode ? record(removedNode, [...path, "removed"], SNAKE_RE, "field", readField) : {};
    const numbersOf = (r: Record<string, LockField>): Record<string, number> => Object.fromEntries(Object.entries(r).map(([k, f]) => [k, f.number]));
    distinct(node, path, numbersOf(fields), numbersOf(removed), "field");
    return { fields, removed };
  };
  const readEnum = (node: JsonNode, path: string[]): LockEnum | undefined => {
    const s = struct(node, path, ["values", "removed"], ["values", "removed"]);
    if (s === undefined) return undefined;
    const value = (v: JsonNode, p: string[]): number | undefined => integer(v, p, 0, MAX_ENUM_NUMBER);
    const valuesNode = s.get("values");
    const removedNode = s.get("removed");
    const values = valuesNode ? record(valuesNode, [...path, "values"], UPPER_RE, "enum value", value) : {};
    const removed = removedNode ? record(removedNode, [...path, "removed"], UPPER_RE, "enum value", value) : {};
    distinct(node, path, values, removed, "value");
    return { values, removed };
  };
  const readTable = (node: JsonNode, path: string[]): LockTable | undefined => {
    const s = struct(node, path, ["key", "value"]);
    if (s === undefined) return undefined;
    const key = string(s.get("key") as JsonNode, [...path, "key"], (k) => SCALAR_SET.has(k), "a key type");
    const value = string(s.get("value") as JsonNode, [...path, "value"], (v) => SCALAR_SET.has(v) || PASCAL_RE.test(v), "a scalar or a type name");
    return key === undefined || value === undefined ? undefined : { key, value };
  };
  const readMethod = (node: JsonNode, path: string[]): LockMethod | undefined => {
    const s = struct(node, path, ["input", "output"]);
    if (s === undefined) return undefined;
    const input = string(s.get("input") as JsonNode, [...path, "input"], (v) => PASCAL_RE.test(v), "a message name");
    const output = string(s.get("output") as JsonNode, [...path, "output"], (v) => PASCAL_RE.test(v), "a message name");
    return input === undefined || output === undefined ? undefined : { input, output };
  };

  // The version first: a later raftgen's lock may have keys this one does not know.
  const version = root.kind === "object" ? root.entries.find((e) => e.key === "version")?.value : undefined;
  if (version !== undefined && !(version.kind === "number" && version.value === LOCK_VERSION)) {
    const shown = version.kind === "number" || version.kind === "string" ? JSON.stringify(version.value) : version.kind;
    bad(version, ["version"], `${file} has version ${shown}; this raftgen reads version ${LOCK_VERSION}`, "lock-version");
    return { issues };
  }
  const top = struct(root, [], ["version", "messages", "enums", "tables", "commands", "queries"], ["messages", "enums", "tables", "commands", "queries"]);
  if (top === undefined) return { issues };
  const section = <T>(key: string, re: RegExp, what: string, read: (v: JsonNode, p: string[]) => T | undefined): Record<string, T> => {
    const node = top.get(key);
    return node ? record(node, [key], re, what, read) : {};
  };
  const lock: Lock = {
    version: LOCK_VERSION,
    messages: section("messages", PASCAL_RE, "message", readMessage),
    enums: section("enums", PASCAL_RE, "enum", readEnum),
    tables: section("tables", SNAKE_RE, "table", readTable),
    commands: section("commands", SNAKE_RE, "command", readMethod),
    queries: section("queries", SNAKE_RE, "query", readMethod),
  };
  issues.sort((a, b) => a.range.start - b.range.start);
  return issues.length > 0 ? { issues } : { lock, issues };
}
