/**
 * V8 makes a substring of 13 characters or more (`slice`, `split`, a regex match) a view into the
 * string it was cut from, and a concatenation a pair of its parts: either keeps the whole source
 * resident. A package name cut from /var/lib/dpkg/status kept the whole 1.4 MB status text alive,
 * and the watched paths of a package the whole of its file list (4 MB for one package here).
 */
const sliceMin = 13;

/**
 * A copy of `s` that keeps nothing else resident: for what is kept long after the text it was cut
 * from is gone. Concatenating, then cutting, makes V8 copy the characters into a string of its own.
 */
export function ownCopy(s: string): string {
  return s.length < sliceMin ? s : (' ' + s).slice(1);
}
