/** Every gradient rule carries its explanation for people (the debugger shows it beside the numbers). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RULE_EXPLANATIONS, RULES } from '../../core/autodiff/rules.ts';

test('every gradient rule has an explanation, and every explanation a rule', () => {
  assert.deepEqual(
    Object.keys(RULES).filter((op) => !RULE_EXPLANATIONS[op]),
    [],
    'rules without an explanation',
  );
  assert.deepEqual(
    Object.keys(RULE_EXPLANATIONS).filter((op) => !RULES[op]),
    [],
    'explanations without a rule',
  );
});
