import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { SQS_SEND_AND_WAIT } from '../../workflows/asl.ts';
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

  // A Map fans out over hosts: unbounded, it would have every host download at once; an uncaught
  // host command would let one host's failure abort the others' work.
  it('bound every Map and catch each host command inside it', () => {
    const maps = WORKFLOW_NAMES.flatMap((workflow) =>
      allStates(rendered(workflow).States as Record<string, LooseState>)
        .filter((state) => state.Type === 'Map')
        .map((state) => ({ workflow, state })),
    );
    expect(maps.map(({ workflow }) => workflow)).toContain('cache-images');
    for (const { workflow, state } of maps) {
      expect(state.MaxConcurrency, workflow).toBeGreaterThan(0);
      const processor = state.ItemProcessor as { States: Record<string, LooseState> };
      const hostCommands = Object.values(processor.States).filter(
        (inner) => inner.Resource === SQS_SEND_AND_WAIT,
      );
      expect(hostCommands.length, workflow).toBeGreaterThan(0);
      for (const command of hostCommands) {
        const caught = ((command.Catch ?? []) as { ErrorEquals: string[] }[]).flatMap(
          (rule) => rule.ErrorEquals,
        );
        expect(caught, workflow).toContain('States.ALL');
      }
    }
  });

  // A network migration that stops on an error must say so on its row (the Fail step), or the run
  // would read `migrating` forever with the legacy API frozen.
  it('network-migration sends every failure of its run to the step that records it', () => {
    const states = rendered('network-migration').States as Record<string, LooseState>;
    const uncaught = Object.entries(states)
      .filter(([name, state]) => (state.Type === 'Task' || state.Type === 'Map') && name !== 'Fail')
      .filter(([, state]) => {
        const catches = (state.Catch ?? []) as { ErrorEquals: string[]; Next: string }[];
        return !catches.some((rule) => rule.ErrorEquals.includes('States.ALL') && rule.Next === 'Fail');
      })
      .map(([name]) => name);
    expect(uncaught).toEqual([]);
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
