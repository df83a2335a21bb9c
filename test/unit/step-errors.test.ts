import { DrizzleQueryError } from 'drizzle-orm/errors';
import { describe, expect, it } from 'vitest';
import { withCauseInMessage } from '../../functions/conductor/step-errors.ts';
import { NoValidHost } from '../../functions/shared/errors.ts';

// A conductor step's error reaches Step Functions as its message alone: a failed statement must say
// why it failed, not only which statement it was.
describe('withCauseInMessage', () => {
  it('adds the driver error behind a failed statement to the message', () => {
    const failed = new DrizzleQueryError(
      'select `properties` from `images` where `uuid` = ?',
      ['x'],
      new Error('socket hang up'),
    );
    const error = withCauseInMessage(failed);
    expect(error).toBe(failed);
    expect((error as Error).message).toMatch(
      /^Failed query: select `properties`[\s\S]*\ncaused by: socket hang up$/,
    );
  });

  it('leaves an error without a cause, and its class, as they are', () => {
    const refused = new NoValidHost('No valid host was found.');
    expect(withCauseInMessage(refused)).toBe(refused);
    expect(refused.message).toBe('No valid host was found.');
    expect(refused).toBeInstanceOf(NoValidHost);
  });
});
