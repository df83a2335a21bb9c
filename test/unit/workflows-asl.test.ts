import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { WORKFLOW_NAMES, WORKFLOWS } from '../../workflows/index.ts';

// asl-validator ships CommonJS without type declarations; this is the part of its API we use.
interface AslValidation {
  isValid: boolean;
  errorsText: (separator?: string) => string;
}
type AslValidator = (
  definition: unknown,
  options?: { checkPaths: boolean; checkArn: boolean },
) => AslValidation;
const validateAsl = createRequire(import.meta.url)('asl-validator') as AslValidator;

const CONDUCTOR_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:nova-asl-test-conductor';

/** A fresh JSON copy: the validator annotates the object it is given. */
function rendered(workflow: (typeof WORKFLOW_NAMES)[number]): Record<string, unknown> {
  return JSON.parse(JSON.stringify(WORKFLOWS[workflow]({ conductorFunctionArn: CONDUCTOR_ARN })));
}

type LooseState = Record<string, unknown>;

/** Every state of a definition, including those inside Parallel branches and Map processors. */
function allStates(states: Record<string, LooseState>): LooseState[] {
  return Object.values(states).flatMap((state) => {
    const branches = (state.Branches ?? []) as { States: Record<string, LooseState> }[];
    const processor = (state.ItemProcessor ?? state.Iterator) as
      | { States: Record<string, LooseState> }
      | undefined;
    const nested = [...branches, ...(processor ? [processor] : [])];
    return [state, ...nested.flatMap((branch) => allStates(branch.States))];
  });
}

describe('workflow definitions', () => {
  it.each(WORKFLOW_NAMES)('%s is valid Amazon States Language', (workflow) => {
    const validation = validateAsl(rendered(workflow), { checkPaths: true, checkArn: true });
    expect(validation.errorsText('\n')).toBe('');
    expect(validation.isValid).toBe(true);
  });

  // The local interpreter silently ignores JSONata, so a JSONata definition would pass locally and
  // behave differently on AWS.
  it.each(WORKFLOW_NAMES)('%s uses JSONPath only', (workflow) => {
    const definition = rendered(workflow);
    const states = allStates(definition.States as Record<string, LooseState>);
    const languages = [definition, ...states].map((node) => node.QueryLanguage ?? 'JSONPath');
    expect(languages.filter((language) => language !== 'JSONPath')).toEqual([]);
    const choiceRules = states.flatMap((state) => (state.Choices ?? []) as LooseState[]);
    const jsonataOnly = [...states, ...choiceRules].flatMap((node) =>
      ['Arguments', 'Output', 'Assign', 'Condition'].filter((field) => field in node),
    );
    expect(jsonataOnly).toEqual([]);
  });

  it('are checked by a validator that rejects a transition to a missing state', () => {
    const broken = rendered('boot-server');
    const states = broken.States as Record<string, Record<string, unknown>>;
    const [firstState] = Object.values(states);
    if (!firstState) throw new Error('workflow has no states');
    firstState.Next = 'NoSuchState';
    delete firstState.End;
    expect(validateAsl(broken, { checkPaths: true, checkArn: true }).isValid).toBe(false);
  });
});
