/**
 * Worker threads whose modules are TypeScript, like the rest of the project. A worker does not inherit
 * the parent's module loader (tsx's CLI, or vitest's), so an eval'd bootstrap registers tsx's loader in
 * the worker before it imports the module.
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startTypeScriptWorker(moduleUrl: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(moduleUrl.href)}); });`;
  return new Worker(bootstrap, { ...options, eval: true });
}
