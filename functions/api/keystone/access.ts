import { Forbidden } from '../../shared/errors.ts';
import type { Caller } from '../context.ts';
import { authorize, type PolicyAction } from '../policy.ts';

// The owner half of the identity `admin_or_owner` rules: policy.ts says whether the rule lets
// non-admins in at all, these say whether the target is the caller's own.

function refuse(action: PolicyAction): never {
  throw new Forbidden(`You are not authorized to perform the requested action: ${action}.`);
}

/** Admins, or the user the target belongs to. */
export function authorizeOwnUser(caller: Caller, action: PolicyAction, userId: string): void {
  authorize(caller, action);
  if (!caller.isAdmin && caller.userId !== userId) refuse(action);
}

/** Admins, or a caller whose token is scoped to the project. */
export function authorizeOwnProject(caller: Caller, action: PolicyAction, projectId: string): void {
  authorize(caller, action);
  if (!caller.isAdmin && caller.projectId !== projectId) refuse(action);
}
