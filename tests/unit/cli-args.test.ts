/** The CLI's argument parsing: negative numbers are values, not flags. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse } from '../../cli/args.ts';
import { UsageError } from '../../cli/files.ts';

const OPTIONS = { target: { type: 'string' }, input: { type: 'string', short: 'i', multiple: true }, json: { type: 'boolean' } } as const;

test('a negative number after an option that takes a value is its value: --target -1, -i -2.5, --input -.5', () => {
  const { values, positionals } = parse(['model.json', '--target', '-1', '-i', '-2.5', '--input', '-.5', '--json'], OPTIONS);
  assert.equal(values.target, '-1');
  assert.deepEqual(values.input, ['-2.5', '-.5']);
  assert.equal(values.json, true);
  assert.deepEqual(positionals, ['model.json']);
});

test('a flag after an option is still a flag, and an unknown one is a one-line usage error', () => {
  assert.throws(() => parse(['--target', '--json'], OPTIONS), UsageError);
  assert.throws(
    () => parse(['--nope', '-1'], OPTIONS),
    (e: Error) => e instanceof UsageError && !e.message.includes('\n'),
  );
});
