/**
 * Where each value of a JSON text is: the offsets of every value by its path ("$.nodes[2].params.stride"),
 * so that problems, diagnostics and the selected node can be shown at their place in the model's text.
 * Meant for valid JSON (parse it first); other text gives a partial map, never an error.
 */

export interface TextRange {
  /** Offset of the value's first character. */
  start: number;
  /** Offset just past the value. */
  end: number;
  /** For an object member: offset of its key's opening quote. */
  keyStart?: number;
}

export function jsonRanges(text: string): Map<string, TextRange> {
  const ranges = new Map<string, TextRange>();
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const string = () => {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    try {
      return JSON.parse(text.slice(start, i)) as string;
    } catch {
      return text.slice(start + 1, i - 1);
    }
  };
  const value = (path: string, keyStart?: number): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      while (i < text.length && text[i] !== '}') {
        const key = (ws(), i);
        if (text[i] !== '"') return; // not JSON: stop here
        const name = string();
        ws();
        i++; // ':'
        value(`${path}.${name}`, key);
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '[') {
      i++;
      ws();
      for (let k = 0; i < text.length && text[i] !== ']'; k++) {
        const before = i;
        value(`${path}[${k}]`);
        if (i === before && text[i] !== ',') return; // not JSON: stop here
        ws();
        if (text[i] === ',') i++;
        ws();
      }
      i++;
    } else if (c === '"') string();
    else while (i < text.length && !',]} \t\n\r'.includes(text[i])) i++;
    ranges.set(path, keyStart === undefined ? { start, end: i } : { start, end: i, keyStart });
  };
  value('$');
  return ranges;
}

/** Line and column (both from 1) of an offset. */
export function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

/** The path of the node (`$.nodes[k]`) whose text contains the offset, if any. */
export function nodeAt(ranges: Map<string, TextRange>, offset: number): number | null {
  for (let k = 0; ; k++) {
    const r = ranges.get(`$.nodes[${k}]`);
    if (!r) return null;
    if (offset >= r.start && offset <= r.end) return k;
  }
}
