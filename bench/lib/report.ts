/** One line of a benchmark's output: what was measured, the figure, and the command behind it. */
export interface BenchRow {
  readonly subject: string;
  readonly figure: string;
  readonly command: string;
}

export interface BenchResult {
  readonly name: string;
  readonly rows: readonly BenchRow[];
  /** Ratios against the tool an operator would otherwise run: "hostguard / ps aux = 0.4". */
  readonly ratios?: readonly string[];
}

export type Bench = () => Promise<BenchResult>;

export function renderMarkdown(result: BenchResult): string {
  const lines = [`### ${result.name}`, '', '| What | Figure | Command |', '|---|---|---|'];
  for (const row of result.rows) lines.push(`| ${row.subject} | ${row.figure} | \`${row.command}\` |`);
  if (result.ratios?.length) lines.push('', ...result.ratios.map((r) => `- ${r}`));
  return lines.join('\n') + '\n';
}
