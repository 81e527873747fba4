/** The Train panel's progress line: samples/s and time left from bursts of step events, and the loss as text. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lossText, TrainingPace } from '../../renderer/panels/trainProgress.ts';

/** A clock the test moves by hand (milliseconds). */
function clock() {
  let t = 0;
  return { now: () => t, set: (ms: number) => (t = ms) };
}

test('before the first epoch ends, the rate is every sample so far over the time since training began', () => {
  const c = clock();
  const pace = new TrainingPace(8, c.now);
  c.set(500);
  pace.begin();
  c.set(1500);
  // Five steps of 8 arrive together, one second after training began.
  assert.deepEqual(pace.at(5, 10), { samplesPerSec: 40, secondsLeft: 1 });
  assert.deepEqual(pace.at(0, 10), { samplesPerSec: null, secondsLeft: null }, 'nothing to say before a step');
});

test("after an epoch, the steps that arrive in the same burst take the trainer's rate, not the time since the epoch event", () => {
  const c = clock();
  const pace = new TrainingPace(8, c.now);
  c.set(1000);
  pace.epoch(40);
  // Same instant as the epoch event: a rate timed from it would be infinite (or millions with coarse clocks).
  assert.deepEqual(pace.at(6, 10), { samplesPerSec: 40, secondsLeft: 0.8 });
  c.set(1000.01);
  assert.equal(pace.at(7, 10).samplesPerSec, 40);
  assert.equal(pace.at(10, 10).secondsLeft, 0);
});

test('a loss reads in four decimals, and in exponent form once it has diverged', () => {
  assert.equal(lossText(0.72401), '0.7240');
  assert.equal(lossText(16.19771), '16.1977');
  assert.equal(lossText(5.1538627088249154e29), '5.154e+29');
  assert.equal(lossText(-12345), '-1.235e+4');
});
