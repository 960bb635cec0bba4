/**
 * Runtime polyfills for Node 20, imported for their side effects only: `import '#local/polyfills.ts'`
 * (or a relative path) before anything that needs them.
 *
 * - `Promise.withResolvers` (ES2024, Node >= 22): aws-local-stepfunctions calls it for every Task state.
 */

declare global {
  // Same shapes as TypeScript's lib.es2024.promise.d.ts, so they merge cleanly if `lib` is raised to ES2024.
  interface PromiseWithResolvers<T> {
    promise: Promise<T>;
    resolve: (value: T | PromiseLike<T>) => void;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- must match the lib declaration exactly
    reject: (reason?: any) => void;
  }

  interface PromiseConstructor {
    withResolvers<T>(): PromiseWithResolvers<T>;
  }
}

if (typeof Promise.withResolvers !== 'function') {
  Object.defineProperty(Promise, 'withResolvers', {
    // Same attributes as the native method: writable and configurable, not enumerable.
    configurable: true,
    writable: true,
    enumerable: false,
    value: function withResolvers<T>(this: PromiseConstructor): PromiseWithResolvers<T> {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new this<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

export {};
