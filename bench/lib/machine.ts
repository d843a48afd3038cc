import si from 'systeminformation';

/** The machine a figure was measured on, as docs/benchmarks.md records it. */
export async function describeMachine(): Promise<string> {
  const [cpu, mem, os] = await Promise.all([si.cpu(), si.mem(), si.osInfo()]);
  const gib = (mem.total / 2 ** 30).toFixed(0);
  return `${cpu.manufacturer} ${cpu.brand}, ${cpu.cores} cores, ${gib} GiB, ${os.distro} ${os.release}, kernel ${os.kernel}, Node.js ${process.version}`;
}
