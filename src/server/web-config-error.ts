/** A --web.config.file that cannot be used, with which file and why. */
export class WebConfigError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'WebConfigError';
  }
}
