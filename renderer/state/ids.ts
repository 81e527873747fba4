/** Readable unique node ids: conv1, conv2, linear1 ... (the layer's op, lower-case, without "2d"). */
export function idPrefix(op: string): string {
  return op
    .replace(/\dd$/, '')
    .replace(/^OnnxOp$/, 'op')
    .toLowerCase();
}

export function nextId(op: string, taken: Iterable<string>): string {
  const prefix = idPrefix(op);
  const used = new Set(taken);
  let n = 1;
  while (used.has(`${prefix}${n}`)) n++;
  return `${prefix}${n}`;
}
