// Whether a compute service is up: the one rule behind os-services' `state`, the availability zone
// view, the conductor's and the move API's host checks, and the scheduler's ComputeFilter (in SQL and
// in memory), so a host is never up for one of them and down for another. Nova's rule: up while
// `elapsed <= service_down_time`, so a report exactly SERVICE_DOWN_TIME_SECONDS old still counts.

export interface ServiceLiveness {
  forced_down: boolean;
  /** The service's last report; null until it first reports. */
  last_seen_at: Date | null;
}

/** The oldest report that keeps a service up at `now`: SQL filters on `last_seen_at >= ` this. */
export function oldestLiveReport(now: Date, downTimeSeconds: number): Date {
  return new Date(now.getTime() - downTimeSeconds * 1000);
}

export function isServiceUp(service: ServiceLiveness, now: Date, downTimeSeconds: number): boolean {
  return (
    !service.forced_down &&
    service.last_seen_at !== null &&
    service.last_seen_at.getTime() >= oldestLiveReport(now, downTimeSeconds).getTime()
  );
}
