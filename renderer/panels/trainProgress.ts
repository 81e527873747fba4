/**
 * The Train panel's progress line: samples per second, time left, and the loss as text. Plain TypeScript,
 * unit-tested in Node.
 */

export interface Pace {
  samplesPerSec: number | null;
  secondsLeft: number | null;
}

/**
 * Samples per second and time left during a run. Step events reach the page in bursts (the worker runs
 * several steps per call and posts them together), so a time taken between two events of one burst means
 * nothing: it once showed millions of samples/s just after each epoch. Until an epoch has ended the rate
 * is every sample so far over the time since training began; after, it is the last epoch's rate as the
 * trainer timed it in the worker, around its steps.
 */
export class TrainingPace {
  private started: number;
  private measured: number | null = null;

  constructor(
    private readonly batchSize: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = now();
  }

  /** Training has begun: the data and the model are ready. */
  begin(): void {
    this.started = this.now();
  }

  /** An epoch has ended; the trainer measured its rate. */
  epoch(samplesPerSec: number): void {
    this.measured = samplesPerSec;
  }

  /** After `step` of `totalSteps`. */
  at(step: number, totalSteps: number): Pace {
    const seconds = (this.now() - this.started) / 1000;
    const rate = this.measured ?? (seconds > 0 && step > 0 ? (step * this.batchSize) / seconds : null);
    return { samplesPerSec: rate, secondsLeft: rate ? (Math.max(0, totalSteps - step) * this.batchSize) / rate : null };
  }
}

/** A loss in four decimals, or in exponent form when it has grown large (a run that diverged). */
export const lossText = (v: number) => (Math.abs(v) >= 1e4 ? v.toExponential(3) : v.toFixed(4));
