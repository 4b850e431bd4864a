/** One measurement, printed as one JSON line by `npm run bench -- --json`. */
export type BenchResult = {
  bench: string;
  metric: string;
  value: number;
  unit: string;
  peer: string;
  peerValue: number;
  /** value / peerValue for higher-is-better metrics; peerValue / value for lower-is-better ones. */
  ratio: number;
  /** The target the issue sets, for the human-readable report. */
  target?: string;
};

export type Benchmark = {
  name: string;
  description: string;
  run(options: { quick: boolean; log: (line: string) => void }): Promise<BenchResult[]>;
};
