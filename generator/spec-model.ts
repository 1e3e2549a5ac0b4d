// From a spec's text (and its lock file's) to the model, without emitting anything: the part
// of generate() that tools share (raftgen call and cluster read a spec this way, and load no
// emitter, so no ts-morph).
//
// This module does no I/O.

import { buildModel } from "./build-model.js";
import { type Lock, formatLock, parseLock } from "./lock.js";
import type { ServiceModel } from "./model.js";
import type { Issue } from "./spec.js";
import { validateSpec } from "./validate.js";

export interface SpecModelOptions {
  /** Base name of the spec file, for headers and diagnostics (default `raft.yaml`). */
  specFile?: string;
  /** The current raft.lock.json text, if the file exists. */
  lockText?: string;
  /** Accept changes that would misread existing data (`--allow-breaking`). */
  allowBreaking?: boolean;
  /** raftgen's version, for headers. */
  version: string;
}

export interface SpecModelResult {
  model?: ServiceModel;
  /** The lock for this model (raft.lock.json's new text); absent when there are issues. */
  lockText?: string;
  /** Problems with the spec; `lock: true` when the range is in the lock file's text. */
  issues: (Issue & { lock?: boolean })[];
}

export function specModel(text: string, options: SpecModelOptions): SpecModelResult {
  const { spec, issues } = validateSpec(text);
  if (!spec) return { issues };
  let lock: Lock | undefined;
  if (options.lockText !== undefined) {
    const parsed = parseLock(options.lockText, "raft.lock.json");
    if (!parsed.lock) return { issues: parsed.issues.map((i) => ({ ...i, lock: true })) };
    lock = parsed.lock;
  }
  const built = buildModel(spec, lock, { allowBreaking: options.allowBreaking ?? false, specFile: options.specFile ?? "raft.yaml", version: options.version });
  if (!built.model || built.issues.length > 0) return { issues: built.issues };
  return { model: built.model, lockText: formatLock(built.lock), issues: [] };
}
