/**
 * Reading JSON text as it came, for what JSON.parse hides: the literal a number was written with
 * (`3600.0` parses to 3600) and member names that occur twice (the last one silently wins). Only
 * ever given text that JSON.parse accepted, so the lexer need not validate.
 */

interface Token {
  kind: 'string' | 'number' | 'word' | 'punct';
  start: number;
  end: number;
}

function* lex(text: string): Generator<Token> {
  let i = 0;
  while (i < text.length) {
    const c = text[i] ?? '';
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
    } else if ('{}[]:,'.includes(c)) {
      yield { kind: 'punct', start: i, end: i + 1 };
      i++;
    } else if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      yield { kind: 'string', start: i, end: j + 1 };
      i = j + 1;
    } else {
      let j = i;
      while (j < text.length && !/[\s{}[\]:,"]/.test(text[j] ?? '')) j++;
      yield { kind: /^[-\d]/.test(c) ? 'number' : 'word', start: i, end: j };
      i = j;
    }
  }
}

/** Where a scalar sits: the member it is the value of (arrays inherit their member's name), and its depth. */
export interface JsonPlace {
  /** The name of the nearest enclosing object member, or undefined at the top or in a top-level array. */
  member: string | undefined;
  /** This string is a member name, not a value. */
  isName: boolean;
  /** 1 for the members (and their scalar values) of the top-level object. */
  depth: number;
}

interface Frame {
  kind: 'object' | 'array';
  /** In an object: the next string is a member name. */
  expectName: boolean;
  /** The member whose value this container is (undefined at the top). */
  owner: string | undefined;
  /** In an object: the member whose value comes next. */
  current: string | undefined;
}

/** Calls `visit` for every value token of `text` (scalars, and the opening of each object or array) and every member name, in order. */
function walk(text: string, visit: (token: Token, raw: string, place: JsonPlace) => void): void {
  const stack: Frame[] = [];
  for (const t of lex(text)) {
    const raw = text.slice(t.start, t.end);
    const top = stack[stack.length - 1];
    if (t.kind === 'punct') {
      if (raw === '{' || raw === '[') {
        const owner = top ? (top.kind === 'object' ? top.current : top.owner) : undefined;
        // A container is a value too (of its member, at the depth of its parent's scalars).
        visit(t, raw, { member: owner, isName: false, depth: stack.length });
        stack.push({
          kind: raw === '{' ? 'object' : 'array',
          expectName: raw === '{',
          owner,
          current: undefined,
        });
      } else if (raw === '}' || raw === ']') {
        stack.pop();
      } else if (raw === ',' && top?.kind === 'object') {
        top.expectName = true;
      }
      continue;
    }
    const isName = t.kind === 'string' && top?.kind === 'object' && top.expectName;
    const member = top
      ? top.kind === 'object'
        ? isName
          ? undefined
          : top.current
        : top.owner
      : undefined;
    visit(t, raw, { member, isName, depth: stack.length });
    if (isName && top) {
      top.current = decodeString(raw);
      top.expectName = false;
    }
  }
}

/** The value of a JSON string literal (quotes included), or the literal itself if it does not decode. */
export function decodeString(literal: string): string {
  try {
    const v: unknown = JSON.parse(literal);
    return typeof v === 'string' ? v : literal;
  } catch {
    return literal;
  }
}

/** Facts about the top-level object of a JSON text that the parsed value no longer shows. */
export interface JsonTextFacts {
  /** Each top-level member whose value is a number, with the literal as written (the last one when a name repeats, as JSON.parse reads it). */
  numberLiterals: Record<string, string>;
  /** Top-level member names that occur more than once, in order of first repetition. */
  duplicateMembers: string[];
}

/** For the text of a JSON object (JSON.parse accepted it): its number literals and repeated member names. */
export function jsonTextFacts(text: string): JsonTextFacts {
  const numberLiterals: Record<string, string> = {};
  const seen = new Set<string>();
  const duplicates: string[] = [];
  walk(text, (t, raw, place) => {
    if (place.depth !== 1) return;
    if (place.isName) {
      const name = decodeString(raw);
      if (seen.has(name) && !duplicates.includes(name)) duplicates.push(name);
      seen.add(name);
    } else if (place.member !== undefined) {
      // A later member of the same name replaces the earlier one, number or not (JSON.parse does so too).
      if (t.kind === 'number') numberLiterals[place.member] = raw;
      else delete numberLiterals[place.member];
    }
  });
  return { numberLiterals, duplicateMembers: duplicates };
}

/**
 * The text with every string literal whose value `replace` changes re-encoded with the new value;
 * everything else (numbers as written, whitespace, member order, duplicates) kept byte for byte.
 */
export function mapJsonStrings(
  text: string,
  replace: (value: string, place: JsonPlace) => string,
): string {
  const parts: string[] = [];
  let last = 0;
  walk(text, (t, raw, place) => {
    if (t.kind !== 'string') return;
    const value = decodeString(raw);
    const next = replace(value, place);
    if (next === value) return;
    parts.push(text.slice(last, t.start), JSON.stringify(next));
    last = t.end;
  });
  parts.push(text.slice(last));
  return parts.join('');
}
