import { EVENT_ID, getScalarValue, parseEvents, type Event } from 'js-yaml';

export type YamlPath = readonly PropertyKey[];

interface Frame {
  readonly kind: 'document' | 'mapping' | 'sequence' | 'ignored';
  readonly path: YamlPath;
  expectKey: boolean;
  key: string;
  index: number;
}

/**
 * Where each key and sequence item of a YAML text starts, so that a schema error on
 * `processes.allow[2].users` can name its line. Built from js-yaml's parser events (offsets into
 * the source) and only called when there is an error to report.
 */
export class YamlPositions {
  private readonly offsets = new Map<string, number>();
  private readonly lineStarts: number[] = [0];

  constructor(source: string) {
    for (let i = 0; i < source.length; i++) if (source.charCodeAt(i) === 10) this.lineStarts.push(i + 1);
    let events: Event[] = [];
    try {
      events = parseEvents(source, {});
    } catch {
      return; // a syntax error is reported by the loader with its own position
    }
    this.walk(source, events);
  }

  /** 1-based line of the deepest part of `path` that exists in the text, or undefined. */
  lineOf(path: YamlPath): number | undefined {
    for (let depth = path.length; depth >= 0; depth--) {
      const offset = this.offsets.get(pathKey(path.slice(0, depth)));
      if (offset !== undefined) return this.lineAt(offset);
    }
    return undefined;
  }

  private lineAt(offset: number): number {
    let low = 0;
    let high = this.lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.lineStarts[mid] ?? 0) <= offset) low = mid;
      else high = mid - 1;
    }
    return low + 1;
  }

  private walk(source: string, events: Event[]): void {
    const stack: Frame[] = [];
    for (const event of events) {
      if (event.type === EVENT_ID.POP) {
        stack.pop();
        continue;
      }
      if (event.type === EVENT_ID.DOCUMENT) {
        stack.push({ kind: 'document', path: [], expectKey: false, key: '', index: 0 });
        continue;
      }
      const parent = stack[stack.length - 1];
      const start = event.type === EVENT_ID.SCALAR ? event.valueStart : event.type === EVENT_ID.ALIAS ? event.anchorStart : event.start;
      let path: YamlPath | undefined;
      if (!parent || parent.kind === 'ignored') {
        path = undefined;
      } else if (parent.kind === 'mapping' && parent.expectKey) {
        parent.expectKey = false;
        parent.key = event.type === EVENT_ID.SCALAR ? getScalarValue(source, event) : '?';
        this.offsets.set(pathKey([...parent.path, parent.key]), start);
        path = undefined; // a complex key's children are not addressable
      } else if (parent.kind === 'mapping') {
        parent.expectKey = true;
        path = [...parent.path, parent.key];
      } else if (parent.kind === 'sequence') {
        path = [...parent.path, parent.index++];
        this.offsets.set(pathKey(path), start);
      } else {
        path = parent.path;
        this.offsets.set(pathKey(path), start);
      }
      if (event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE) {
        stack.push({
          kind: path === undefined ? 'ignored' : event.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence',
          path: path ?? [],
          expectKey: true,
          key: '',
          index: 0,
        });
      }
    }
  }
}

function pathKey(path: YamlPath): string {
  return JSON.stringify(path.map((p) => (typeof p === 'number' ? p : String(p))));
}

/** `processes.allow[2].users`: how an operator reads a path into the policy. */
export function formatPath(path: YamlPath): string {
  let text = '';
  for (const part of path) {
    if (typeof part === 'number') text += `[${part}]`;
    else text += text === '' ? String(part) : `.${String(part)}`;
  }
  return text || '(top level)';
}
