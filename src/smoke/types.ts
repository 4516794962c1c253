/** The throwaway user of a `helfy smoke` run and what its cleanup must remove. */

export interface SmokeUser {
  email: string;
  password: string;
  displayName: string;
  /** A weight (kg, one decimal) that only this run writes, to recognise it on the dashboard. */
  weightKg: number;
  /** The UTC day of the point (and of the summary workflow). */
  day: string;
  pointTime: string;
}

/** What the cleanup must remove, filled in as the checks go. */
export interface SmokeTrace {
  userId?: string;
  workflowIds: Set<string>;
  /** An API request was cut off (timeout, Ctrl-C): the server may still finish it after the cleanup. */
  cutOff?: boolean;
}
