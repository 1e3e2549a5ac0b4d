// A reader for the subset of EDN (https://github.com/edn-format/edn) that Jepsen histories use.
//
// It reads one value from a string: nil, booleans, integers, floats, strings (with the EDN
// escapes), keywords, symbols, vectors, lists, maps and sets, skipping whitespace, commas,
// `;` comments and `#_` discards; a tagged literal (`#inst "..."`) reads as its inner value.
// Integers outside the safe range are rejected rather than rounded.
//
// This file must not know about histories or models: parse.ts gives the values meaning. It
// throws only EdnSyntaxError, which callers turn into a HistoryParseError with a line number.

/** A keyword such as `:ok`, held without its colon. */
export class EdnKeyword {
  constructor(readonly name: string) {}
  toString(): string {
    return `:${this.name}`;
  }
}

/** A symbol such as `foo`, other than nil/true/false. */
export class EdnSymbol {
  constructor(readonly name: string) {}
  toString(): string {
    return this.name;
  }
}

/** A map, as its entries in source order (keys may be any value). */
export class EdnMap {
  constructor(readonly entries: readonly (readonly [EdnValue, EdnValue])[]) {}

  /** The value under keyword `:name`, or `undefined` when absent. */
  getKeyword(name: string): EdnValue | undefined {
    for (const [k, v] of this.entries) {
      if (k instanceof EdnKeyword && k.name === name) return v;
    }
    return undefined;
  }
}

export type EdnValue =
  | null
  | boolean
  | number
  | string
  | EdnKeyword
  | EdnSymbol
  | EdnMap
  | readonly EdnValue[];

/** A syntax error at a 1-based column of the text given to readEdn. */
export class EdnSyntaxError extends Error {
  override readonly name = "EdnSyntaxError";
  constructor(
    readonly detail: string,
    readonly column: number,
  ) {
    super(`${detail} at column ${column}`);
  }
}

const DELIMITERS = new Set(["(", ")", "[", "]", "{", "}", '"', ";", ","]);

function isWhitespace(c: string): boolean {
  return c === " " || c === "\t" || c === "\n" || c === "\r" || c === "," || c === "\f";
}

/** Reads exactly one EDN value from `text` (surrounding whitespace allowed). */
export function readEdn(text: string): EdnValue {
  const r = new Reader(text);
  const v = r.value();
  r.skip();
  if (r.pos < text.length) r.fail(`unexpected ${JSON.stringify(text[r.pos])} after the value`);
  return v;
}

class Reader {
  pos = 0;
  constructor(private readonly s: string) {}

  fail(detail: string, at = this.pos): never {
    throw new EdnSyntaxError(detail, at + 1);
  }

  /** Skips whitespace, commas, comments and `#_` discarded forms. */
  skip(): void {
    const s = this.s;
    for (;;) {
      while (this.pos < s.length && isWhitespace(s[this.pos]!)) this.pos++;
      if (s[this.pos] === ";") {
        while (this.pos < s.length && s[this.pos] !== "\n") this.pos++;
        continue;
      }
      if (s[this.pos] === "#" && s[this.pos + 1] === "_") {
        this.pos += 2;
        this.value();
        continue;
      }
      return;
    }
  }

  value(): EdnValue {
    this.skip();
    const s = this.s;
    if (this.pos >= s.length) this.fail("unexpected end of input");
    const c = s[this.pos]!;
    switch (c) {
      case "[":
        this.pos++;
        return this.sequence("]");
      case "(":
        this.pos++;
        return this.sequence(")");
      case "{": {
        this.pos++;
        const start = this.pos - 1;
        const items = this.sequence("}");
        if (items.length % 2 !== 0) this.fail("map with an odd number of forms", start);
        const entries: [EdnValue, EdnValue][] = [];
        for (let i = 0; i < items.length; i += 2) entries.push([items[i]!, items[i + 1]!]);
        return new EdnMap(entries);
      }
      case "#":
        if (s[this.pos + 1] === "{") {
          this.pos += 2;
          return this.sequence("}");
        }
        // A tagged literal: read the tag symbol, keep the tagged value.
        this.pos++;
        this.token();
        return this.value();
      case '"':
        return this.string();
      case ")":
      case "]":
      case "}":
        return this.fail(`unexpected ${JSON.stringify(c)}`);
      default:
        return this.atom();
    }
  }

  private sequence(close: string): EdnValue[] {
    const items: EdnValue[] = [];
    for (;;) {
      this.skip();
      if (this.pos >= this.s.length) this.fail(`missing ${JSON.stringify(close)}`);
      if (this.s[this.pos] === close) {
        this.pos++;
        return items;
      }
      items.push(this.value());
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.pos;
    this.pos++;
    let out = "";
    for (;;) {
      if (this.pos >= s.length) this.fail("unterminated string", start);
      const c = s[this.pos++]!;
      if (c === '"') return out;
      if (c !== "\\") {
        out += c;
        continue;
      }
      const e = s[this.pos++];
      switch (e) {
        case "n":
          out += "\n";
          break;
        case "t":
          out += "\t";
          break;
        case "r":
          out += "\r";
          break;
        case "b":
          out += "\b";
          break;
        case "f":
          out += "\f";
          break;
        case '"':
          out += '"';
          break;
        case "\\":
          out += "\\";
          break;
        case "u": {
          const hex = s.slice(this.pos, this.pos + 4);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail("bad \\u escape", this.pos - 2);
          out += String.fromCharCode(parseInt(hex, 16));
          this.pos += 4;
          break;
        }
        default:
          this.fail(`unknown escape \\${e ?? ""}`, this.pos - 2);
      }
    }
  }

  /** Reads a run of non-delimiter, non-whitespace characters. */
  private token(): string {
    const s = this.s;
    const start = this.pos;
    while (this.pos < s.length && !isWhitespace(s[this.pos]!) && !DELIMITERS.has(s[this.pos]!)) {
      this.pos++;
    }
    return s.slice(start, this.pos);
  }

  private atom(): EdnValue {
    const start = this.pos;
    const tok = this.token();
    if (tok === "") this.fail(`unexpected ${JSON.stringify(this.s[start])}`, start);
    if (tok === "nil") return null;
    if (tok === "true") return true;
    if (tok === "false") return false;
    if (tok[0] === ":") {
      if (tok.length === 1) this.fail("empty keyword", start);
      return new EdnKeyword(tok.slice(1));
    }
    if (/^[+-]?\d/.test(tok)) {
      if (/^[+-]?\d+N?$/.test(tok)) {
        const n = Number(tok.replace(/N$/, ""));
        if (!Number.isSafeInteger(n)) this.fail(`integer ${tok} is outside the safe range`, start);
        return n;
      }
      if (/^[+-]?\d+(\.\d*)?([eE][+-]?\d+)?M?$/.test(tok)) return Number(tok.replace(/M$/, ""));
      this.fail(`bad number ${JSON.stringify(tok)}`, start);
    }
    if (tok[0] === "\\") this.fail("character literals are not supported", start);
    return new EdnSymbol(tok);
  }
}
