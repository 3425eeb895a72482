// One printed benchmark line. Sections (bench/<section>.ts) export `async function bench<Section>(): Promise<BenchRow[]>`
// and bench/run.ts prints them all in one run.
export interface BenchRow {
  section: string;
  name: string;
  value: number;
  unit: string;
  /** The target or reference to print beside the value, e.g. '>= 70'. */
  target?: string;
  note?: string;
}
