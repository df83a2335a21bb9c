import { type ArnScope, assertStateMachineArn, stateMachineArn } from './sfn-arns.ts';
import { type CompiledDefinition, compileDefinition } from './sfn-definitions.ts';
import { SfnServiceError } from './sfn-protocol.ts';

export interface StateMachineRecord {
  readonly stateMachineArn: string;
  readonly name: string;
  readonly creationDate: Date;
  roleArn: string;
  compiled: CompiledDefinition;
}

export class StateMachineRegistry {
  readonly #machines = new Map<string, StateMachineRecord>();
  readonly #scope: ArnScope;

  constructor(scope: ArnScope) {
    this.#scope = scope;
  }

  /** Idempotent for an identical definition, as CreateStateMachine is on AWS (roleArn differences are ignored). */
  create(name: string, definition: string, roleArn: string): StateMachineRecord {
    const compiled = compileDefinition(definition);
    const arn = stateMachineArn(this.#scope, name);
    const existing = this.#machines.get(arn);
    if (existing !== undefined) {
      if (existing.compiled.canonical === compiled.canonical) return existing;
      throw new SfnServiceError('StateMachineAlreadyExists', `State Machine Already Exists: '${arn}'`);
    }
    const machine: StateMachineRecord = {
      stateMachineArn: arn,
      name,
      creationDate: new Date(),
      roleArn,
      compiled,
    };
    this.#machines.set(arn, machine);
    return machine;
  }

  /** Executions already running keep the definition they started with, as on AWS. */
  update(arn: string, changes: { definition?: string; roleArn?: string }): void {
    const machine = this.get(arn);
    if (changes.definition === undefined && changes.roleArn === undefined) {
      throw new SfnServiceError('MissingRequiredParameter', 'Either definition or roleArn must be given');
    }
    if (changes.definition !== undefined) machine.compiled = compileDefinition(changes.definition);
    if (changes.roleArn !== undefined) machine.roleArn = changes.roleArn;
  }

  get(arn: string): StateMachineRecord {
    assertStateMachineArn(arn);
    const machine = this.#machines.get(arn);
    if (machine === undefined) {
      throw new SfnServiceError('StateMachineDoesNotExist', `State Machine Does Not Exist: '${arn}'`);
    }
    return machine;
  }

  list(): StateMachineRecord[] {
    return [...this.#machines.values()];
  }

  /** Deleting is idempotent on AWS; executions of the machine keep running to their end. */
  delete(arn: string): void {
    assertStateMachineArn(arn);
    this.#machines.delete(arn);
  }
}
