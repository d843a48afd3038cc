/** A policy that cannot be used, with where and why: `policy.yml:12: processes.allow[2].users: ...`. */
export class PolicyError extends Error {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly key: string | undefined,
    readonly problem: string,
  ) {
    super(`${file}${line ? `:${line}` : ''}: ${key ? `${key}: ` : ''}${problem}`);
    this.name = 'PolicyError';
  }
}
