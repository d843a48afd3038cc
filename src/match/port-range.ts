/** A port or an inclusive range of ports, as allow rules write them: `22` or `"8000-8099"`. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

export type PortSpec = number | string;

/** Throws on anything but a port 0-65535 or a range "a-b" with a <= b. */
export function parsePortRange(spec: PortSpec): PortRange {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec) || spec < 0 || spec > 65535) throw new Error(`${spec} is not a port (0-65535)`);
    return { from: spec, to: spec };
  }
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(spec.trim());
  const from = Number(match?.[1]);
  const to = match?.[2] === undefined ? from : Number(match[2]);
  if (!match || from > 65535 || to > 65535 || from > to) throw new Error(`"${spec}" is not a port or a range like 8000-8099`);
  return { from, to };
}

export function portRangeError(spec: PortSpec): string | undefined {
  try {
    parsePortRange(spec);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function inPortRange(range: PortRange, port: number): boolean {
  return port >= range.from && port <= range.to;
}
