/**
 * Test support: the consistency rules every execution history must keep, even across crashes
 * and node failures. Used by the crash test and the multi-node test.
 */
import assert from 'node:assert/strict';

export interface CheckedEvent {
  id: number;
  previousEventId: number;
  type: string;
  [details: string]: unknown;
}

export interface HistoryTally {
  /** Task attempts (Scheduled events). */
  attempts: number;
  /** Attempts ended by a restart or a dead node (recorded as failed, then retried). */
  interrupted: number;
  timedOut: number;
}

const SCHEDULED = /^(LambdaFunction|Task|Activity)Scheduled$/;
const MIDDLE = /^(LambdaFunctionStarted|TaskStarted|TaskSubmitted|ActivityStarted)$/;
const ENDED =
  /^(LambdaFunction(Succeeded|Failed|TimedOut|StartFailed)|Task(Succeeded|Failed|TimedOut|StartFailed|SubmitFailed)|Activity(Succeeded|Failed|TimedOut|ScheduleFailed))$/;
const INTERRUPTED = /^Stepwise restarted while this task was running/;

/**
 * Ids contiguous from 1, each event linking to an earlier one, one ExecutionStarted, a
 * successful end, every task attempt a chain Scheduled → (Started, Submitted…) → exactly one
 * end event, and each state of `visits` entered and exited that many times.
 */
export function checkHistory(
  name: string,
  events: readonly CheckedEvent[],
  visits: Readonly<Record<string, number>>,
): HistoryTally {
  const tally: HistoryTally = { attempts: 0, interrupted: 0, timedOut: 0 };
  const where = (e: CheckedEvent) => `${name}: event ${e.id} (${e.type})`;
  events.forEach((e, i) => {
    assert.equal(e.id, i + 1, `${name}: ids are not contiguous at #${i}`);
    assert.ok(
      e.previousEventId >= 0 && e.previousEventId < e.id,
      `${where(e)} links to ${e.previousEventId}`,
    );
  });
  assert.equal(
    events.filter((e) => e.type === 'ExecutionStarted').length,
    1,
    `${name}: one ExecutionStarted`,
  );
  assert.equal(events[0]?.type, 'ExecutionStarted');
  assert.equal(events.at(-1)?.type, 'ExecutionSucceeded', `${name}: ends with ExecutionSucceeded`);

  // `open` maps the last event of each unfinished attempt to the attempt.
  const open = new Map<number, number>();
  for (const e of events) {
    if (SCHEDULED.test(e.type)) {
      assert.ok(
        !open.has(e.previousEventId),
        `${where(e)}: scheduled again before attempt ${e.previousEventId} ended`,
      );
      open.set(e.id, e.id);
      tally.attempts++;
    } else if (MIDDLE.test(e.type) || ENDED.test(e.type)) {
      const attempt = open.get(e.previousEventId);
      assert.ok(
        attempt !== undefined,
        `${where(e)} does not follow an open attempt (links to ${e.previousEventId})`,
      );
      open.delete(e.previousEventId);
      if (MIDDLE.test(e.type)) open.set(e.id, attempt);
      if (/TimedOut$/.test(e.type)) tally.timedOut++;
      const details = Object.values(e).find(
        (v): v is { cause?: unknown } => typeof v === 'object' && v !== null && 'cause' in v,
      );
      if (typeof details?.cause === 'string' && INTERRUPTED.test(details.cause)) tally.interrupted++;
    } else {
      assert.ok(
        !open.has(e.previousEventId),
        `${where(e)} continues attempt ${e.previousEventId} that never ended`,
      );
    }
  }
  assert.deepEqual([...open.values()], [], `${name}: attempts without an end event`);

  for (const [state, count] of Object.entries(visits)) {
    const named = (key: 'stateEnteredEventDetails' | 'stateExitedEventDetails') =>
      events.filter((e) => (e[key] as { name?: string } | undefined)?.name === state).length;
    assert.equal(named('stateEnteredEventDetails'), count, `${name}: ${state} entered`);
    assert.equal(named('stateExitedEventDetails'), count, `${name}: ${state} exited`);
  }
  return tally;
}
