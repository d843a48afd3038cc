import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/**
 * The layering of src/ (docs/architecture.md): a module imports only from its own folder and from
 * folders of lower layers. Judgment modules are pure: they import no module that reads the host.
 */
const layers: ReadonlyArray<{ readonly layer: string; readonly folders: readonly string[] }> = [
  { layer: 'pure helpers', folders: ['text', 'match', 'counting', 'version.ts', 'host-paths.ts'] },
  { layer: 'logging', folders: ['log'] },
  { layer: 'state directory and timing', folders: ['state', 'scheduler'] },
  { layer: 'readers and the finding type', folders: ['procfs', 'rootfs', 'tail', 'findings'] },
  { layer: 'the kernel audit log (read with tail)', folders: ['kaudit'] },
  { layer: 'container identity', folders: ['containers'] },
  { layer: 'policy and baseline', folders: ['config', 'baseline'] },
  { layer: 'domains', folders: ['processes', 'network', 'integrity', 'kernel', 'auth', 'ids', 'audit'] },
  { layer: 'reads that can block, in helper processes', folders: ['isolated'] },
  { layer: 'facts across domains', folders: ['fleet'] },
  { layer: 'metric definitions', folders: ['metrics'] },
  { layer: 'collectors', folders: ['collectors'] },
  { layer: 'exporter core', folders: ['exporter.ts'] },
  { layer: 'HTTP server', folders: ['server'] },
  { layer: 'command line', folders: ['cli'] },
];

/** Node modules that reach the host: files, processes, sockets, threads. */
const hostModules = /^node:(fs|fs\/promises|child_process|net|dgram|http|https|worker_threads)$/;

/** Judgment modules: every judge*.ts of a domain, and these, which judge too. */
const designatedJudges = ['processes/hidden.ts', 'processes/verdict-summary.ts'];

interface Import {
  readonly specifier: string;
  /** The src-relative path of a relative import; undefined for a package or node: module. */
  readonly target: string | undefined;
  readonly typeOnly: boolean;
  /** Only node:net's pure address checks are imported. */
  readonly addressChecksOnly: boolean;
  /** `import()`: loaded when the code runs, not with the module. */
  readonly dynamic?: boolean;
}

const srcDir = join(repoRoot, 'src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function importsOf(file: string): Import[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const found: Import[] = [];
  const add = (specifier: string, typeOnly: boolean, names: readonly string[] = [], dynamic = false) => {
    const target = specifier.startsWith('.') ? relative(srcDir, resolve(dirname(file), specifier)).replace(/\.js$/, '.ts') : undefined;
    const addressChecksOnly = specifier === 'node:net' && names.length > 0 && names.every((n) => ['isIP', 'isIPv4', 'isIPv6'].includes(n));
    found.push({ specifier, target, typeOnly, addressChecksOnly, dynamic });
  };
  const visit = (node: ts.Node) => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const bindings = clause?.namedBindings;
      const allNamedTypes =
        bindings !== undefined &&
        ts.isNamedImports(bindings) &&
        bindings.elements.length > 0 &&
        bindings.elements.every((e) => e.isTypeOnly) &&
        !clause?.name;
      const names =
        bindings !== undefined && ts.isNamedImports(bindings) && !clause?.name
          ? bindings.elements.map((e) => (e.propertyName ?? e.name).text)
          : [];
      add(node.moduleSpecifier.text, clause?.isTypeOnly === true || allNamedTypes, names);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      add(node.moduleSpecifier.text, node.isTypeOnly);
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      add(node.arguments[0].text, false, [], true);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The folder (or top-level file) a src-relative path belongs to. */
function unitOf(path: string): string {
  return path.split('/')[0]!;
}

const layerOf = new Map(layers.flatMap(({ folders }, rank) => folders.map((f) => [f, rank] as const)));
const files = sourceFiles(srcDir).map((f) => relative(srcDir, f));
const imports = new Map(files.map((f) => [f, importsOf(join(srcDir, f))]));
/**
 * Modules that reach the host themselves: the readers. A type from node:fs reads nothing, nor do
 * node:net's address checks (isIP, isIPv4, isIPv6), which the CIDR matcher uses.
 */
const readers = new Set(
  files.filter((f) => imports.get(f)!.some((i) => hostModules.test(i.specifier) && !i.typeOnly && !i.addressChecksOnly)),
);
const domains = new Set(layers.find((l) => l.layer === 'domains')!.folders);
const judges = files.filter((f) => (domains.has(unitOf(f)) && /\/judge[^/]*\.ts$/.test(f)) || designatedJudges.includes(f));

function layerViolations(all: ReadonlyMap<string, readonly Import[]>): string[] {
  const violations: string[] = [];
  for (const [file, list] of all) {
    const from = unitOf(file);
    for (const { target, specifier } of list) {
      if (target === undefined || unitOf(target) === from) continue;
      const to = unitOf(target);
      if (layerOf.get(to)! >= layerOf.get(from)!)
        violations.push(
          `${file} imports ${specifier} (${layers[layerOf.get(to)!]!.layer}, not below ${layers[layerOf.get(from)!]!.layer})`,
        );
    }
  }
  return violations;
}

function judgeViolations(
  judgeFiles: readonly string[],
  all: ReadonlyMap<string, readonly Import[]>,
  hostReaders: ReadonlySet<string>,
): string[] {
  const violations: string[] = [];
  for (const judge of judgeFiles) {
    for (const { specifier, target } of all.get(judge) ?? []) {
      if (hostModules.test(specifier)) violations.push(`${judge} imports ${specifier}`);
      else if (target !== undefined && ['procfs', 'rootfs'].includes(unitOf(target)))
        violations.push(`${judge} imports ${specifier} (a /proc or rootfs reader)`);
      else if (target !== undefined && hostReaders.has(target)) violations.push(`${judge} imports ${specifier}, which reads the host`);
    }
  }
  return violations;
}

describe('the layering of src/', () => {
  it('places every folder of src/ in a layer', () => {
    expect([...new Set(files.map(unitOf))].filter((unit) => !layerOf.has(unit))).toEqual([]);
  });

  it('has a module import only its own folder and lower layers', () => {
    expect(layerViolations(imports)).toEqual([]);
  });

  it('finds the judgment modules of every domain', () => {
    expect(new Set(judges.map(unitOf))).toEqual(domains);
  });

  it('keeps judgments pure: no node I/O module, nothing of procfs/ or rootfs/, no module that reads the host (types included)', () => {
    expect(judgeViolations(judges, imports, readers)).toEqual([]);
  });

  it("loads no collector's code to parse the command line or to run `auth test`: their static imports never reach the registry", () => {
    /** The src modules loaded with `entry`: its static, non-type imports, transitively. */
    const loadedWith = (entry: string): Set<string> => {
      const seen = new Set<string>([entry]);
      for (const file of seen)
        for (const i of imports.get(file) ?? []) if (i.target !== undefined && !i.typeOnly && !i.dynamic) seen.add(i.target);
      return seen;
    };
    expect(loadedWith('cli/serve.ts').has('collectors/registry.ts')).toBe(true);
    for (const entry of ['cli/main.ts', 'cli/auth-test.ts'])
      expect([entry, loadedWith(entry).has('collectors/registry.ts')]).toEqual([entry, false]);
  });

  it('would fail on a domain importing a collector, and on a judgment importing a reader', () => {
    const planted = new Map<string, Import[]>([
      [
        'network/judge-listeners.ts',
        [
          { specifier: 'node:fs', target: undefined, typeOnly: false, addressChecksOnly: false },
          { specifier: '../procfs/net.js', target: 'procfs/net.ts', typeOnly: true, addressChecksOnly: false },
          { specifier: './observe.js', target: 'network/observe.ts', typeOnly: false, addressChecksOnly: false },
        ],
      ],
      [
        'processes/observe.ts',
        [{ specifier: '../collectors/collector.js', target: 'collectors/collector.ts', typeOnly: true, addressChecksOnly: false }],
      ],
    ]);
    expect(layerViolations(planted)).toEqual(['processes/observe.ts imports ../collectors/collector.js (collectors, not below domains)']);
    expect(judgeViolations(['network/judge-listeners.ts'], planted, new Set(['network/observe.ts']))).toHaveLength(3);
  });
});
