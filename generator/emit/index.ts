// All emitters, in one call: a model in, every file of generated/ out, sorted by path.
//
// This module does no I/O.

import type { GeneratedFile } from "../files.js";
import type { ServiceModel } from "../model.js";
import { emitClient } from "./client.js";
import { emitDescriptor } from "./descriptor.js";
import { emitHandlers } from "./handlers.js";
import { emitProto } from "./proto.js";
import { emitIndex, emitServer } from "./server.js";
import { emitState } from "./state.js";
import { emitTypes } from "./types.js";

/** Every generated file of a model, sorted by path. */
export function emitAll(model: ServiceModel): GeneratedFile[] {
  const files = [emitTypes(model), emitState(model), emitHandlers(model), emitDescriptor(model), emitClient(model), emitServer(model), emitIndex(model), emitProto(model)];
  return files.sort((a, b) => (a.path < b.path ? -1 : 1));
}
