// Builds the IR (model.ts's ServiceModel) from a validated spec and the lock: every message
// with its protobuf numbers (from lock.ts's reconcile), every type reference resolved to a
// message or an enum, every name in each case it is used in, and every list sorted, so that
// emitters are loops and their output is byte-identical for the same spec and lock.
//
// Pure: no I/O, no YAML. It trusts the spec (validate.ts checked names and types) and reports
// only what the lock comparison finds; with any issue there is no model, since numbers that
// would misread data must not reach an emitter.

import { payloadName, reconcile, specMessages, type Lock, type MessageSite } from "./lock.js";
import {
  names,
  sortBy,
  type EnumModel,
  type FieldModel,
  type MessageModel,
  type MethodModel,
  type Names,
  type ServiceModel,
  type TableModel,
  type TypeRef,
} from "./model.js";
import type { CheckedSpec, Issue, SpecMethod, SpecTypeRef } from "./spec.js";

export interface BuildOptions {
  /** `--allow-breaking`: accept changes that would misread existing data, and write the lock. */
  readonly allowBreaking: boolean;
  /** Base name of the spec file, for headers: `raft.yaml`. */
  readonly specFile: string;
  /** raftgen's version, for headers. */
  readonly version: string;
}

export interface BuildResult {
  /** Absent when there are issues. */
  readonly model?: ServiceModel;
  /** The lock that goes with the model; write it only when `issues` is empty. */
  readonly lock: Lock;
  readonly issues: Issue[];
}

/**
 * The names of a PascalCase service name: `PlacementCenter` -> placement_center /
 * placementCenter / PlacementCenter; a leading acronym is lowered as a word (`HTTPServer` ->
 * `httpServer`, `http_server`).
 */
export function serviceNames(pascal: string): Names {
  const words = pascal.match(/[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+/g) ?? [pascal];
  const lower = words.map((w) => w.toLowerCase());
  const camel = (lower[0] ?? "") + words.slice(1).map((w) => w.charAt(0) + w.slice(1).toLowerCase()).join("");
  return { snake: lower.join("_"), camel, pascal };
}

/** Compare with the lock, number, resolve and sort: the IR every emitter reads. */
export function buildModel(spec: CheckedSpec, lock: Lock | undefined, opts: BuildOptions): BuildResult {
  const { numbers, lock: next, issues } = reconcile(spec, lock, { allowBreaking: opts.allowBreaking });
  if (issues.length > 0) return { lock: next, issues };

  const enumNames = new Set(spec.enums.map((e) => e.name));
  const named = (name: string): TypeRef & { kind: "message" | "enum" } => (enumNames.has(name) ? { kind: "enum", name } : { kind: "message", name });
  const resolve = (t: SpecTypeRef): TypeRef => {
    switch (t.kind) {
      case "scalar":
        return { kind: "scalar", scalar: t.scalar };
      case "named":
        return named(t.name);
      case "map":
        return { kind: "map", value: t.value.kind === "scalar" ? { kind: "scalar", scalar: t.value.scalar } : named(t.value.name) };
    }
  };

  const message = (site: MessageSite): MessageModel => {
    const fieldNumbers = numbers.messages.get(site.name);
    const fields: FieldModel[] = site.fields.map((f) => ({
      name: names(f.name),
      number: fieldNumbers?.get(f.name) ?? 0,
      type: resolve(f.type),
      optional: f.optional,
      repeated: f.repeated,
      ...(f.doc !== undefined ? { doc: f.doc } : {}),
      source: `${site.source}.${f.name}`,
    }));
    const removed = next.messages[site.name]?.removed ?? {};
    return {
      name: site.name,
      fields: [...fields].sort((a, b) => a.number - b.number),
      ...(site.doc !== undefined ? { doc: site.doc } : {}),
      source: site.source,
      reserved: Object.values(removed)
        .map((f) => f.number)
        .sort((a, b) => a - b),
    };
  };

  const enums: EnumModel[] = spec.enums.map((e) => {
    const valueNumbers = numbers.enums.get(e.name);
    return {
      name: e.name,
      values: e.values.map((v) => ({ name: v.name, number: valueNumbers?.get(v.name) ?? 0 })).sort((a, b) => a.number - b.number),
      ...(e.doc !== undefined ? { doc: e.doc } : {}),
      source: `types.${e.name}`,
    };
  });

  const tables: TableModel[] = spec.tables.map((t) => ({
    name: names(t.name),
    key: t.key,
    value: t.value.kind === "scalar" ? { kind: "scalar", scalar: t.value.scalar } : named(t.value.name),
    ...(t.doc !== undefined ? { doc: t.doc } : {}),
    source: `state.${t.name}`,
  }));

  const method = (kind: "command" | "query", m: SpecMethod): MethodModel => {
    const section = kind === "command" ? "commands" : "queries";
    return {
      kind,
      name: names(m.name),
      input: payloadName(m, "input"),
      inputIsNamed: m.input?.kind === "named",
      output: payloadName(m, "output"),
      outputIsNamed: m.output?.kind === "named",
      hasOutput: m.output !== undefined,
      ...(kind === "query" ? { consistency: m.consistency ?? "linearizable" } : {}),
      ...(m.doc !== undefined ? { doc: m.doc } : {}),
      source: `${section}.${m.name}`,
    };
  };

  const model: ServiceModel = {
    service: serviceNames(spec.service),
    package: spec.package,
    ...(spec.doc !== undefined ? { doc: spec.doc } : {}),
    specFile: opts.specFile,
    generatorVersion: opts.version,
    messages: sortBy(specMessages(spec).map(message), (m) => m.name),
    enums: sortBy(enums, (e) => e.name),
    tables: sortBy(tables, (t) => t.name.snake),
    commands: sortBy(
      spec.commands.map((m) => method("command", m)),
      (m) => m.name.snake,
    ),
    queries: sortBy(
      spec.queries.map((m) => method("query", m)),
      (m) => m.name.snake,
    ),
  };
  return { model, lock: next, issues };
}
