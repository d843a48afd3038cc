import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The lock that tests running dpkg or apt-get take around each run, so that two test files (or two
 * checkouts on one machine) never wait on dpkg's own lock with a deadline running. Another path in
 * HOSTGUARD_TEST_DPKG_LOCK, for example when the caller already holds this one.
 */
export const dpkgTestLock = process.env['HOSTGUARD_TEST_DPKG_LOCK'] ?? join(tmpdir(), 'hostguard-test-dpkg.lock');
