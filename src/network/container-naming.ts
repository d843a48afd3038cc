import { containerPhrase, containerSubject, type ContainerIdentity } from '../containers/identity.js';

/** The container a process runs in, by PID, as the processes collector identified it in this collection; undefined for the host's. */
export type ContainerOf = (pid: number) => ContainerIdentity | undefined;

export interface ContainerNaming {
  /** The container's fields for a finding's subject (none for the host's processes). */
  readonly subject: Readonly<Record<string, string>>;
  /** `, in cri-o container 3f2a9c1d0b7e (web, image …, pod shop/web-1)` for a message, or ''. */
  readonly phrase: string;
}

const onHost: ContainerNaming = { subject: {}, phrase: '' };

/**
 * How a network finding names the container of its process, the way the processes collector's
 * container findings do (containerSubject, containerPhrase): the first of the PIDs that runs in one.
 */
export function containerNaming(pids: readonly number[], containerOf: ContainerOf | undefined): ContainerNaming {
  if (!containerOf) return onHost;
  for (const pid of pids) {
    const identity = containerOf(pid);
    if (identity) return { subject: containerSubject(identity), phrase: `, in ${containerPhrase(identity)}` };
  }
  return onHost;
}
