// generate(): a spec's text in, generated files out — pure, in memory (protobuf-es's
// Plugin.run idea). The CLI (build-command.ts) does the reading and writing; tests call this
// directly. Issues come back all at once; no file is produced when there is any.
//
// This module does no I/O.

import { buildModel } from "./build-model.js";
import { emitHandlersStub } from "./emit/handlers.js";
import { emitAll } from "./emit/index.js";
import { type Lock, formatLock, parseLock } from "./lock.js";
import type { ServiceModel } from "./model.js";
import type { Issue } from "./spec.js";
import { validateSpec } from "./validate.js";

import type { GeneratedFile } from "./files.js";
export type { GeneratedFile } from "./files.js";
export type { Issue } from "./spec.js";
export type { ServiceModel } from "./model.js";
export { emitAll } from "./emit/index.js";

export interface GenerateOptions {
  /** Base name of the spec file, for headers and diagnostics (default `raft.yaml`). */
  specFile?: string;
  /** The current raft.lock.json text, if the file exists. */
  lockText?: string;
  /** Accept changes that would misread existing data (`--allow-breaking`). */
  allowBreaking?: boolean;
  /** raftgen's version, for headers. */
  version: string;
}

export interface GenerateResult {
  /** generated/* files, sorted by path; empty when there are issues. */
  files: GeneratedFile[];
  /** src/handlers.ts for a project that has none yet. */
  handlersStub?: GeneratedFile;
  /** The new raft.lock.json text (unchanged text when nothing changed). */
  lockText?: string;
  model?: ServiceModel;
  /** Problems with the spec; `lock: true` when the range is in the lock file's text. */
  issues: (Issue & { lock?: boolean })[];
}

export function generate(text: string, options: GenerateOptions): GenerateResult {
  const specFile = options.specFile ?? "raft.yaml";
  const { spec, issues } = validateSpec(text);
  if (!spec) return { files: [], issues };
  let lock: Lock | undefined;
  if (options.lockText !== undefined) {
    const parsed = parseLock(options.lockText, "raft.lock.json");
    if (!parsed.lock) return { files: [], issues: parsed.issues.map((i) => ({ ...i, lock: true })) };
    lock = parsed.lock;
  }
  const built = buildModel(spec, lock, { allowBreaking: options.allowBreaking ?? false, specFile, version: options.version });
  if (!built.model || built.issues.length > 0) return { files: [], issues: built.issues };
  const model = built.model;
  return { files: emitAll(model), handlersStub: emitHandlersStub(model), lockText: formatLock(built.lock), model, issues: [] };
}
