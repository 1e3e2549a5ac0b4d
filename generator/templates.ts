// Handlebars for the non-TypeScript outputs (.proto, and the files `raftgen init` writes).
// Templates hold no logic: each emitter computes a flat view first. Compiled with
// `noEscape` (this is code, not HTML) and `strict` (a missing value is a bug, not blank text).
//
// Templates are read from templates/ beside the package once per process; rendering is pure.

import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";

const TEMPLATE_DIR = new URL("../../templates/", import.meta.url);
/** When run from source (vitest, tsx) templates/ is one level up instead of two. */
const SOURCE_TEMPLATE_DIR = new URL("../templates/", import.meta.url);

const cache = new Map<string, Handlebars.TemplateDelegate>();

function read(name: string): string {
  for (const dir of [TEMPLATE_DIR, SOURCE_TEMPLATE_DIR]) {
    try {
      return readFileSync(fileURLToPath(new URL(name, dir)), "utf8");
    } catch {
      // try the next layout
    }
  }
  throw new Error(`template ${name} not found under ${fileURLToPath(TEMPLATE_DIR)}`);
}

/** Renders templates/<name> with `view`. */
export function render(name: string, view: object): string {
  let t = cache.get(name);
  if (!t) {
    t = Handlebars.compile(read(name), { noEscape: true, strict: true });
    cache.set(name, t);
  }
  return t(view);
}
