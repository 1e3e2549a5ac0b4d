// Finds and parses the project's .proto files (proto/*.proto) once per process.
//
// The runtime runs both from source (vitest, tsx: runtime/codec/) and compiled
// (dist/runtime/codec/); walking up from this module until a directory holding
// proto/<name> is found works for both. Parsing keeps the .proto's snake_case field names.
//
// This module reads files only at first use of each .proto; it never writes.

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";

/** Absolute path of proto/<name> in the package this module belongs to. */
export function findProtoFile(name: string): string {
  const start = dirname(fileURLToPath(import.meta.url));
  for (let dir = start; ; ) {
    const candidate = join(dir, "proto", name);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no proto/${name} in ${start} or any directory above it`);
    dir = parent;
  }
}

const roots = new Map<string, protobuf.Root>();

/** The parsed and resolved schema of proto/<name> (snake_case field names). */
export function loadProtoRoot(name: string): protobuf.Root {
  let root = roots.get(name);
  if (!root) {
    root = protobuf.parse(readFileSync(findProtoFile(name), "utf8"), new protobuf.Root(), { keepCase: true }).root;
    root.resolveAll();
    roots.set(name, root);
  }
  return root;
}
