import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../helpers/cli.js';

/** node_exporter's README is about 12 KB; past 16 KB ours has stopped being scannable. */
const readmeMaxBytes = 16 * 1024;

interface Link {
  readonly line: number;
  readonly target: string;
}

/** Markdown with fenced code blocks and inline code spans blanked, so examples are not read as links. */
function withoutCode(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, '');
  });
}

/** Inline links and images: [text](target) and ![alt](target), with an optional "title". */
function markdownLinks(markdown: string): Link[] {
  const links: Link[] = [];
  withoutCode(markdown).forEach((line, i) => {
    for (const match of line.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ line: i + 1, target: match[1]! });
  });
  return links;
}

/** The anchors GitHub gives a page's headings (github-slugger: lower case, punctuation dropped, spaces to hyphens, -N for repeats). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = fenced ? null : /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!heading) continue;
    const text = heading[1]!.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count === 0 ? base : `${base}-${count}`);
  }
  return anchors;
}

/** Relative links of one file that point to nothing in the repository, or to a heading the target page lacks. */
function brokenLinks(file: string, markdown: string, read: (path: string) => string | undefined): string[] {
  const broken: string[] = [];
  for (const { line, target } of markdownLinks(markdown)) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // http:, https:, mailto:
    const [pathPart = '', anchor] = target.split('#', 2);
    const path = pathPart === '' ? file : join(dirname(file), decodeURIComponent(pathPart));
    const where = `${relative(repoRoot, file)}:${line}: ${target}`;
    if (!existsSync(path)) {
      broken.push(`${where} (no such file)`);
      continue;
    }
    if (anchor === undefined || !path.endsWith('.md')) continue;
    const text = pathPart === '' ? markdown : read(path);
    if (text !== undefined && !headingAnchors(text).has(anchor)) broken.push(`${where} (no heading with that anchor)`);
  }
  return broken;
}

function markdownFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return markdownFilesUnder(path);
    return name.endsWith('.md') ? [path] : [];
  });
}

const readIfFile = (path: string): string | undefined => (statSync(path).isFile() ? readFileSync(path, 'utf8') : undefined);

describe('README and docs/', () => {
  const files = [join(repoRoot, 'README.md'), ...markdownFilesUnder(join(repoRoot, 'docs'))];

  it('have no relative link to a missing file or heading', () => {
    const broken = files.flatMap((file) => brokenLinks(file, readFileSync(file, 'utf8'), readIfFile));
    expect(broken).toEqual([]);
  });

  it('link to each collector page from the README, and each page exists', () => {
    const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
    const pages = readdirSync(join(repoRoot, 'docs', 'collectors')).filter((f) => f.endsWith('.md'));
    expect(pages.length).toBeGreaterThan(0);
    for (const page of pages) expect(readme, page).toContain(`(docs/collectors/${page})`);
  });

  it(`keep the README at most ${readmeMaxBytes} bytes`, () => {
    expect(statSync(join(repoRoot, 'README.md')).size).toBeLessThanOrEqual(readmeMaxBytes);
  });

  it('the checker reports a missing file and a missing heading, and ignores code and absolute URLs', () => {
    const file = join(repoRoot, 'README.md');
    const markdown = [
      '# Title',
      '[ok](docs/metrics.md) [self](#title) [web](https://example.org/nothing.md)',
      '[gone](docs/no-such-page.md)',
      '[bad anchor](docs/metrics.md#no-such-heading)',
      '`[in code](docs/nothing-here.md)`',
      '```',
      '[in a block](docs/nothing-either.md)',
      '```',
    ].join('\n');
    expect(brokenLinks(file, markdown, readIfFile)).toEqual([
      'README.md:3: docs/no-such-page.md (no such file)',
      'README.md:4: docs/metrics.md#no-such-heading (no heading with that anchor)',
    ]);
  });

  it('computes anchors as GitHub does for code, punctuation and repeated headings', () => {
    const anchors = headingAnchors('## Integrity (`--collector.integrity`)\n### Network: collector vs ss -tulnp\n## Notes\n## Notes\n');
    expect([...anchors]).toEqual(['integrity---collectorintegrity', 'network-collector-vs-ss--tulnp', 'notes', 'notes-1']);
  });
});
