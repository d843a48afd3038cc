/** Prometheus-style durations: a whole number and one unit, `500ms`, `30s`, `5m`, `6h`, `1d`. */
const unitMs = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export type DurationUnit = keyof typeof unitMs;

/** Milliseconds, or undefined when `text` is not a duration in one of `units`. */
export function parseDurationMs(text: string, units: readonly DurationUnit[]): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  const unit = match?.[2] as DurationUnit | undefined;
  if (!match || !unit || !units.includes(unit)) return undefined;
  return Number(match[1]) * unitMs[unit];
}

/** `ms` in the largest unit that holds it whole, as the flags spell it: 1800000 is `30m`, 1500 is `1500ms`. */
export function formatDurationMs(ms: number): string {
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms >= unitMs[unit] && ms % unitMs[unit] === 0) return `${ms / unitMs[unit]}${unit}`;
  }
  return `${ms}ms`;
}
