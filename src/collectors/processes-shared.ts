import type { Registry } from 'prom-client';
import type { FlaggedProcess } from '../network/judge-outbound.js';
import type { ContainerFacts } from '../processes/container-facts.js';
import type { CollectorEnv } from './collector.js';

type StartListener = (pids: readonly number[]) => void;

/**
 * What the processes collector of one exporter tells the network collector: the processes it
 * flagged at its last collection (their outgoing connections are judged), and the new PIDs its
 * watch of starts examines (each is looked at for a socket on a standard stream). The processes
 * collector runs first in a collection (registry.ts), so the network collector judges by the
 * verdicts of the same collection; and the processes in containers, with their container, so that
 * network findings name it. Without the processes collector all stay empty.
 */
export class ProcessesShared {
  private flaggedNow: ReadonlyMap<number, FlaggedProcess> = new Map();
  private containersNow: ReadonlyMap<number, ContainerFacts> = new Map();
  private readonly listeners = new Set<StartListener>();

  get flagged(): ReadonlyMap<number, FlaggedProcess> {
    return this.flaggedNow;
  }

  publishFlagged(flagged: ReadonlyMap<number, FlaggedProcess>): void {
    this.flaggedNow = flagged;
  }

  /** Processes in containers at the last collection, by PID; a process's facts are the same object while it runs the same executable. */
  get containers(): ReadonlyMap<number, ContainerFacts> {
    return this.containersNow;
  }

  publishContainers(containers: ReadonlyMap<number, ContainerFacts>): void {
    this.containersNow = containers;
  }

  /** Hear of the PIDs the watch of starts examines; returns how to stop. */
  onStarts(listener: StartListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  publishStarts(pids: readonly number[]): void {
    for (const listener of this.listeners) listener(pids);
  }
}

const byRegistry = new WeakMap<Registry, ProcessesShared>();

/** The shared part for this exporter (its registry), made by whichever collector asks first. */
export function processesShared(env: CollectorEnv): ProcessesShared {
  let shared = byRegistry.get(env.registry);
  if (!shared) {
    shared = new ProcessesShared();
    byRegistry.set(env.registry, shared);
  }
  return shared;
}
