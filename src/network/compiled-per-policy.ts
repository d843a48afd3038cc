/** Compile a policy section's rules once per loaded policy (a reload brings a new object). */
export function compiledPerPolicy<P extends object, R>(compile: (policy: P) => R): (policy: P) => R {
  const cache = new WeakMap<P, R>();
  return (policy) => {
    let compiled = cache.get(policy);
    if (compiled === undefined) {
      compiled = compile(policy);
      cache.set(policy, compiled);
    }
    return compiled;
  };
}
