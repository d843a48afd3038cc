import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log/logger.js';
import { blindSpots } from '../../src/cli/blind-spots.js';
import { reportPrivileges } from '../../src/cli/privileges-report.js';
import {
  capabilityMask,
  capabilityNames,
  parseCapabilitySets,
  type CapabilityName,
  type CapabilitySets,
} from '../../src/procfs/capabilities.js';

const needed: CapabilityName[] = ['cap_sys_ptrace', 'cap_dac_read_search', 'cap_net_bind_service'];
const dockerDefaults: CapabilityName[] = [
  'cap_chown',
  'cap_dac_override',
  'cap_fsetid',
  'cap_fowner',
  'cap_mknod',
  'cap_net_raw',
  'cap_setgid',
  'cap_setuid',
  'cap_setfcap',
  'cap_setpcap',
  'cap_net_bind_service',
  'cap_sys_chroot',
  'cap_kill',
  'cap_audit_write',
];

function sets(parts: Partial<Record<keyof CapabilitySets, CapabilityName[]>>): CapabilitySets {
  const mask = (set: keyof CapabilitySets) => capabilityMask(parts[set] ?? []);
  return {
    inheritable: mask('inheritable'),
    permitted: mask('permitted'),
    effective: mask('effective'),
    bounding: mask('bounding'),
    ambient: mask('ambient'),
  };
}

describe('the capability sets of a process', () => {
  it('are read from /proc/PID/status, each set by name', () => {
    const status =
      'Name:\tnode\nCapInh:\t0000000000000000\nCapPrm:\t0000000000080404\nCapEff:\t0000000000080404\nCapBnd:\t0000000000080404\nCapAmb:\t0000000000080004\n';
    const parsed = parseCapabilitySets(status);
    expect(capabilityNames(parsed.effective)).toEqual(['cap_dac_read_search', 'cap_net_bind_service', 'cap_sys_ptrace']);
    expect(capabilityNames(parsed.ambient)).toEqual(['cap_dac_read_search', 'cap_sys_ptrace']);
    expect(parseCapabilitySets('Name:\tx\n')).toEqual(sets({}));
  });
});

describe('what the exporter cannot see for want of a capability', () => {
  it('nothing, with the three it needs in effect: uid 0 in a container, or a non-root user with ambient capabilities (systemd)', () => {
    expect(blindSpots(0, sets({ effective: needed, permitted: needed, bounding: needed }))).toEqual([]);
    expect(
      blindSpots(65534, sets({ effective: needed, permitted: needed, bounding: needed, ambient: needed, inheritable: needed })),
    ).toEqual([]);
  });

  it('a non-root container granted them with capabilities.add lost all three at exec, and is told so', () => {
    const spots = blindSpots(65534, sets({ bounding: needed }));
    expect(spots.map((s) => [s.capability, s.droppedAtExec])).toEqual([
      ['cap_sys_ptrace', true],
      ['cap_dac_read_search', true],
      ['cap_net_bind_service', true],
    ]);
    expect(spots[0]!.hidden).toContain("other users' processes are closed to it");
    expect(spots[1]!.hidden).toContain('/etc/shadow');
    expect(spots[2]!.hidden).toContain('ports below 1024');
  });

  it("root with Docker's default capabilities misses only cap_sys_ptrace (cap_dac_override reads everything), and was never granted it", () => {
    const spots = blindSpots(0, sets({ effective: dockerDefaults, permitted: dockerDefaults, bounding: dockerDefaults }));
    expect(spots).toEqual([
      {
        capability: 'cap_sys_ptrace',
        hidden: expect.stringContaining("root's processes that hold capabilities the exporter lacks"),
        droppedAtExec: false,
      },
    ]);
  });

  it('a plain user never granted anything is blind without a hint about ambient sets', () => {
    expect(blindSpots(1000, sets({})).every((s) => !s.droppedAtExec)).toBe(true);
  });
});

describe('the start-up report', () => {
  function report(uid: number, capabilities: CapabilitySets): string[] {
    const lines: string[] = [];
    reportPrivileges(
      createLogger({ level: 'info', format: 'logfmt', write: (l) => lines.push(l), now: () => new Date(0) }),
      uid,
      capabilities,
    );
    return lines;
  }

  it('names the capabilities in effect, and one line for each missing one with what it hides', () => {
    const lines = report(65534, sets({ bounding: needed }));
    expect(lines[0]).toBe(
      'time=1970-01-01T00:00:00.000Z level=info msg="capabilities in effect" uid=65534 effective=(none) ambient=(none) blind_spots=3',
    );
    expect(lines.slice(1).map((l) => /msg="without (\w+):/.exec(l)?.[1])).toEqual([
      'cap_sys_ptrace',
      'cap_dac_read_search',
      'cap_net_bind_service',
    ]);
    expect(lines[1]).toContain('the kernel dropped it when the exporter started as uid 65534');
    expect(lines[1]).toContain('level=warn');
  });

  it('says "all" for a root with every capability, and nothing more', () => {
    const all = capabilityNames((1n << 41n) - 1n);
    expect(report(0, sets({ effective: all, permitted: all, bounding: all }))).toEqual([
      'time=1970-01-01T00:00:00.000Z level=info msg="capabilities in effect" uid=0 effective=all ambient=(none) blind_spots=0',
    ]);
  });
});
