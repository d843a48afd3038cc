/**
 * Order strings by UTF-16 code units: the same on every host, whatever its locale, and without
 * `localeCompare`, whose first call loads ICU's collation tables (about 3 MiB of resident memory).
 */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
