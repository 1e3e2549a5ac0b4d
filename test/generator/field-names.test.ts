// Field names are destructured by handlers, so they must be usable as variables in a strict
// TypeScript module: true reserved words are refused, contextual keywords (type, from, of, as,
// async, string, number, ...) are ordinary names and must be accepted — a field named `type`
// is common in real specs.

import { describe, expect, test } from "vitest";
import { validateSpec } from "../../generator/validate.js";

const spec = (field: string) => `service: S\npackage: s\ncommands:\n  c: { input: { ${field}: string } }\n`;

describe("field names", () => {
  test.each(["type", "from", "of", "as", "async", "string", "number", "object", "any", "symbol", "never", "unknown", "get", "set"])(
    "%s is accepted",
    (name) => {
      expect(validateSpec(spec(name)).issues).toEqual([]);
    },
  );

  test.each(["class", "default", "function", "let", "yield", "await", "arguments", "eval", "undefined", "enum"])("%s is refused", (name) => {
    const { issues } = validateSpec(spec(name));
    expect(issues.map((i) => i.code)).toEqual(["reserved-word"]);
    expect(issues[0]!.message).toContain(`"${name}"`);
  });
});
