// An execution's history in GetExecutionHistory's shape. State transitions come from the interpreter's
// event log; task and execution events are recorded by the endpoint, which is the one that sees them.
import type { InterpreterEvent } from './sfn-json.ts';
import { epochSeconds } from './sfn-protocol.ts';

/** Details of one event under the SDK's key for its type, e.g. `{ taskScheduledEventDetails: {...} }`. */
export type EventDetails = Record<string, Record<string, unknown>>;

interface RecordedEvent {
  timestamp: Date;
  type: string;
  details: EventDetails;
}

export interface WireHistoryEvent {
  timestamp: number;
  type: string;
  id: number;
  previousEventId: number;
  [detailsKey: string]: unknown;
}

export class ExecutionHistory {
  readonly #events: RecordedEvent[] = [];

  record(type: string, details: EventDetails = {}): void {
    this.#events.push({ timestamp: new Date(), type, details });
  }

  /** Copies the interpreter's state transitions in as they happen, until its log closes. */
  async follow(eventLogs: AsyncGenerator<InterpreterEvent>): Promise<void> {
    for await (const event of eventLogs) {
      const translated = translate(event);
      if (translated !== undefined) {
        this.#events.push({ timestamp: new Date(event.timestamp), ...translated });
      }
    }
  }

  list(): WireHistoryEvent[] {
    return this.#events.map((event, index) => ({
      timestamp: epochSeconds(event.timestamp),
      type: event.type,
      id: index + 1,
      previousEventId: index,
      ...event.details,
    }));
  }
}

// Execution-level events are recorded by the endpoint (it knows roleArn, stop reasons and timeouts);
// retries and catches have no event of their own on AWS, only the task events around them.
function translate(event: InterpreterEvent): Omit<RecordedEvent, 'timestamp'> | undefined {
  switch (event.type) {
    case 'StateEntered':
      return {
        type: `${event.state.type}StateEntered`,
        details: {
          stateEnteredEventDetails: { name: event.state.name, input: JSON.stringify(event.state.input) },
        },
      };
    case 'StateExited':
      return {
        type: `${event.state.type}StateExited`,
        details: {
          stateExitedEventDetails: {
            name: event.state.name,
            output: JSON.stringify(event.state.output ?? null),
          },
        },
      };
    case 'StateFailed':
      return event.state.type === 'Map' || event.state.type === 'Parallel'
        ? { type: `${event.state.type}StateFailed`, details: {} }
        : undefined;
    case 'MapIterationStarted':
    case 'MapIterationSucceeded':
    case 'MapIterationFailed': {
      const key = `${event.type.charAt(0).toLowerCase()}${event.type.slice(1)}EventDetails`;
      return { type: event.type, details: { [key]: { name: event.parentState.name, index: event.index } } };
    }
    default:
      return undefined;
  }
}
