// generate(): a spec's text in, generated files out — pure, in memory (protobuf-es's
// Plugin.run idea). The CLI (build-command.ts) does the reading and writing; tests call this
// directly. Issues come back all at once; no file is produced when there is any.
//
// This module does no I/O.

import { emitHandlersStub } from "./emit/handlers.js";
import { emitAll } from "./emit/index.js";
import type { GeneratedFile } from "./files.js";
import type { ServiceModel } from "./model.js";
import { type SpecModelOptions, type SpecModelResult, specModel } from "./spec-model.js";

export type { GeneratedFile } from "./files.js";
export type { Issue } from "./spec.js";
export type { ServiceModel } from "./model.js";
export { emitAll } from "./emit/index.js";
export { descriptorOf } from "./descriptor.js";
export { specModel } from "./spec-model.js";

export type GenerateOptions = SpecModelOptions;

export interface GenerateResult {
  /** generated/* files, sorted by path; empty when there are issues. */
  files: GeneratedFile[];
  /** src/handlers.ts for a project that has none yet. */
  handlersStub?: GeneratedFile;
  /** The new raft.lock.json text (unchanged text when nothing changed). */
  lockText?: string;
  model?: ServiceModel;
  issues: SpecModelResult["issues"];
}

export function generate(text: string, options: GenerateOptions): GenerateResult {
  const { model, lockText, issues } = specModel(text, options);
  if (!model) return { files: [], issues };
  return { files: emitAll(model), handlersStub: emitHandlersStub(model), ...(lockText !== undefined ? { lockText } : {}), model, issues: [] };
}
