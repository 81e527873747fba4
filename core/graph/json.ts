/**
 * JSON parsing with a precise, engine-independent error position (line and column),
 * so "model.json:3:14: expected ',' or '}'" reads the same in Node and in the browser.
 */
export interface JsonSyntaxError {
  message: string;
  offset: number;
  line: number;
  column: number;
}

export type JsonResult = { ok: true; value: unknown } | { ok: false; error: JsonSyntaxError };

export function parseJson(text: string): JsonResult {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, error: locateSyntaxError(text) };
  }
}

function at(text: string, offset: number, message: string): JsonSyntaxError {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return { message, offset, line, column };
}

/** Scans the text as JSON and describes the first place it goes wrong. */
function locateSyntaxError(text: string): JsonSyntaxError {
  let i = 0;
  // A control character is shown escaped ("\n"), so that the message stays on one line.
  const describe = (): string => (i >= text.length ? 'end of file' : text.charCodeAt(i) < 0x20 ? JSON.stringify(text[i]) : `'${text[i]}'`);
  class Stop extends Error {}
  const fail = (expected: string): never => {
    throw Object.assign(new Stop(), { detail: at(text, i, `expected ${expected}, found ${describe()}`) });
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = (): void => {
    if (text[i] !== '"') fail('a string');
    i++;
    while (i < text.length && text[i] !== '"') {
      if (text[i] === '\\') {
        i++;
        if (text[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) fail('four hex digits after \\u');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(text[i] ?? '')) fail('a valid escape');
      } else if (text.charCodeAt(i) < 0x20) fail('no control characters inside a string');
      i++;
    }
    if (i >= text.length) fail("a closing '\"'");
    i++;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        string();
        ws();
        if (text[i] !== ':') fail("':' after the property name");
        i++;
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') return void i++;
        fail("',' or '}'");
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') return void i++;
        fail("',' or ']'");
      }
    } else if (c === '"') string();
    else if (c === '-' || (c >= '0' && c <= '9')) {
      const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
      if (!m) fail('a number');
      i += m![0].length;
    } else {
      for (const word of ['true', 'false', 'null']) {
        if (text.startsWith(word, i)) return void (i += word.length);
      }
      fail('a value');
    }
  };
  try {
    value();
    ws();
    if (i < text.length) fail('end of file');
  } catch (e) {
    if (e instanceof Stop) return (e as Stop & { detail: JsonSyntaxError }).detail;
    throw e;
  }
  return at(text, 0, 'invalid JSON');
}
