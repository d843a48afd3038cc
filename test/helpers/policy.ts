import { parsePolicy } from '../../src/config/load-policy.js';

/** The message a policy text is refused with, or 'accepted' when it loads. */
export function policyError(yaml: string): string {
  try {
    parsePolicy(yaml, 'p.yml');
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}
