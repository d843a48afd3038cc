/**
 * A flat copy of a string that may be a slice of a much larger one. Log lines are slices of the
 * 64 KiB chunk they were read in, and V8 keeps a slice's parent alive: anything kept past the
 * line (a map key, a finding) is copied first.
 */
export function detach(text: string): string {
  return (' ' + text).slice(1);
}
