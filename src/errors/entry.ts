/** One catalogue entry: HTTP status, the safe client-facing message and the documented meaning. */
export interface ErrorEntry {
  readonly status: number;
  readonly message: string;
  readonly meaning: string;
}
