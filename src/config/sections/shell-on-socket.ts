import { z } from 'zod';
import { pathGlob } from '../glob-field.js';
import { exeGlobs, portSpec, protocolChoice, userName } from './network-fields.js';

/**
 * Super-servers: programs that accept connections and hand each one to another program as its
 * standard input and output (inetd, xinetd, systemd `Accept=yes` sockets, ucspi-tcp and ipsvd), or
 * hand their own bound socket over (an inetd `wait` UDP service). A process whose standard stream is
 * a socket one of them listens on was started that way on purpose.
 */
export const defaultSuperServers = [
  '/usr/lib/systemd/systemd',
  '/lib/systemd/systemd',
  '/usr/sbin/inetd',
  '/usr/sbin/xinetd',
  '/usr/sbin/inetutils-inetd',
  '/usr/sbin/rlinetd',
  '/usr/bin/tcpserver',
  '/usr/bin/tcpsvd',
  '/usr/bin/udpsvd',
] as const;

/** A program expected with a socket as a standard stream: every field given must match. */
const socketProgramRuleSchema = z
  .object({
    exe: exeGlobs.describe('the program on the socket'),
    /** The local port for a connection it accepted or a socket it listens on; the remote port for one it opened. */
    port: portSpec.optional(),
    protocol: protocolChoice,
    user: userName.optional(),
    comment: z.string().optional(),
  })
  .strict();

/** `shell_on_socket`: which processes may have a TCP or UDP socket as standard input, output or error. */
export const shellOnSocketSectionSchema = z
  .object({
    enabled: z.boolean().default(true),
    super_servers: z.array(pathGlob).default([...defaultSuperServers]),
    allow: z.array(socketProgramRuleSchema).default([]),
  })
  .strict();

export type ShellOnSocketPolicy = z.infer<typeof shellOnSocketSectionSchema>;
