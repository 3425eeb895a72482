// One printed benchmark line. Sections (bench/<section>.ts) export `async function bench<Section>(): Promise<BenchRow[]>`
// and bench/run.ts prints them all in one run.
export interface BenchRow {
  section: string;
  name: string;
  value: number;
  unit: string;
  /** PyTorch's figure for the same work, in `unit`, measured in the same run (bench/peer.ts). */
  peer?: number;
  /** Median over repetitions of earmark's time ÷ PyTorch's (below 1: earmark is faster). */
  ratio?: number;
  /** The target or reference to print beside the value, e.g. '>= 70'. */
  target?: string;
  note?: string;
}
