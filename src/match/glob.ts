/**
 * Path globs for allow rules and watched paths: `*` matches within one path segment, `**` across
 * segments (including none), `?` one character, `[abc]` / `[!abc]` a character class. A pattern
 * without wildcards matches only itself.
 */
export type PathMatcher = (path: string) => boolean;

export function compileGlob(pattern: string): PathMatcher {
  if (!/[*?[]/.test(pattern)) return (path) => path === pattern;
  const regex = new RegExp(`^${globToRegexSource(pattern)}$`);
  return (path) => regex.test(path);
}

/** Why `pattern` cannot be compiled (a class like `[z-a]`), or undefined when it can: checked at policy load. */
export function globError(pattern: string): string | undefined {
  try {
    compileGlob(pattern);
    return undefined;
  } catch (error) {
    const reason = (error as Error).message.replace(/^.*: /, '');
    return `"${pattern}" is not a valid glob (${reason})`;
  }
}

export function isGlob(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}

function globToRegexSource(pattern: string): string {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        // "/**/" also matches "/" so that /usr/**/bin matches /usr/bin. [\s\S], not ".": a file
        // name with a newline must not slip out of /tmp/** (that would hide a dropper).
        if (pattern[i + 2] === '/') {
          source += '(?:[\\s\\S]*/)?';
          i += 2;
        } else {
          source += '[\\s\\S]*';
          i += 1;
        }
      } else {
        source += '[^/]*';
      }
    } else if (c === '?') {
      source += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end === -1) {
        source += '\\[';
      } else {
        let body = pattern.slice(i + 1, end);
        const negate = body.startsWith('!') || body.startsWith('^');
        if (negate) body = body.slice(1);
        source += `[${negate ? '^' : ''}${body.replace(/[\\\]^]/g, '\\$&')}]`;
        i = end;
      }
    } else {
      source += c.replace(/[.+^${}()|\\\]]/g, '\\$&');
    }
  }
  return source;
}

/** The first of `patterns` that matches, by index, or -1: for "first match wins" rule lists. */
export function firstMatch(matchers: readonly PathMatcher[], path: string): number {
  for (let i = 0; i < matchers.length; i++) if (matchers[i]!(path)) return i;
  return -1;
}
