import { afterAll } from 'vitest';
import { removeContainers } from './container-lab.js';

/** Containers for tests: every one a test file starts is deleted after it, also when a test fails. */
afterAll(removeContainers);

export {
  crioAnnotations,
  crioCgroup,
  debianImage,
  dockerCgroup,
  holdPackage,
  startContainer,
  type TestContainer,
} from './container-lab.js';
