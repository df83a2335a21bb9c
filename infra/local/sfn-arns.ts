import * as v from 'valibot';
import { SfnServiceError } from './sfn-protocol.ts';

/** Where this endpoint pretends to live; every ARN it mints or accepts carries these. */
export interface ArnScope {
  region: string;
  accountId: string;
}

// Step Functions names: 1-80 characters, no whitespace, brackets, wildcards, punctuation or control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what the rule excludes
const NAME_PATTERN = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f]{1,80}$/;

export const ResourceName = v.pipe(
  v.string(),
  v.regex(NAME_PATTERN, 'must be 1-80 characters without whitespace, brackets, wildcards or punctuation'),
);

export function stateMachineArn(scope: ArnScope, name: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:stateMachine:${name}`;
}

export function executionArn(scope: ArnScope, stateMachineName: string, executionName: string): string {
  return `arn:aws:states:${scope.region}:${scope.accountId}:execution:${stateMachineName}:${executionName}`;
}

/** Rejects strings that are not state machine ARNs at all (InvalidArn), as opposed to unknown ones. */
export function assertStateMachineArn(arn: string): void {
  if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:stateMachine:[^:]+$/.test(arn)) {
    throw new SfnServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
  }
}

export function assertExecutionArn(arn: string): void {
  if (!/^arn:aws[\w-]*:states:[\w-]+:\d{12}:execution:[^:]+:[^:]+$/.test(arn)) {
    throw new SfnServiceError('InvalidArn', `Invalid Arn: '${arn}'`);
  }
}
