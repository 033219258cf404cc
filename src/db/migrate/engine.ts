// Loads Prisma's schema engine compiled to WebAssembly, so that migrations need no native binary
// (the CLI would download one, which is impossible offline).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils';
import { bindMigrationAwareSqlAdapterFactory } from '@prisma/driver-adapter-utils';
import type { SchemaEngine } from '@prisma/schema-engine-wasm/schema_engine_bg';

export type * from '@prisma/schema-engine-wasm/schema_engine_bg';
export type { SchemaEngine };

type BgModule = typeof import('@prisma/schema-engine-wasm/schema_engine_bg');

// The project's libs (ES2023 + node) lack the WebAssembly typings; this is the part used here.
type ModuleImports = Record<string, unknown>;
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, ModuleImports>,
  ): Promise<{ instance: { exports: ModuleImports } }>;
};

// The bindings report Rust panics through this global (set_message); the Prisma CLI defines the same.
class PanicRegistry {
  message = '';
  get(): string {
    return this.message;
  }
  set_message(message: string): void {
    this.message = `RuntimeError: ${message}`;
  }
}

declare global {
  // eslint-disable-next-line no-var
  var PRISMA_WASM_PANIC_REGISTRY: PanicRegistry | undefined;
}

let loading: Promise<BgModule> | undefined;

/** The bindings module, wired to an instance of the .wasm beside it (once per process). */
function loadBindings(): Promise<BgModule> {
  loading ??= (async () => {
    globalThis.PRISMA_WASM_PANIC_REGISTRY ??= new PanicRegistry();
    // The package's main entry `import`s the .wasm as an ES module, which Node 20 cannot load.
    const bg: BgModule = await import('@prisma/schema-engine-wasm/schema_engine_bg');
    const wasmPath = createRequire(import.meta.url)
      .resolve('@prisma/schema-engine-wasm/schema_engine_bg')
      .replace(/\.js$/, '.wasm');
    const imports: ModuleImports = { ...bg };
    // The engine races its operations against timers (60 s) that it never clears, which would keep
    // the process alive for a minute after the last call; `keepAlive` holds it while a call runs.
    for (const key of Object.keys(imports).filter((k) => k.startsWith('__wbg_setTimeout_'))) {
      imports[key] = (callback: () => void, ms: number) => setTimeout(callback, ms >>> 0).unref();
    }
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), { './schema_engine_bg.js': imports });
    bg.__wbg_set_wasm(instance.exports);
    (instance.exports.__wbindgen_start as () => void)();
    return bg;
  })();
  return loading;
}

export interface SchemaFile {
  path: string;
  content: string;
}

/** Starts an engine on a schema and a (main + shadow) adapter factory. Call `free()` when done. */
export async function openEngine(
  schema: SchemaFile,
  factory: SqlMigrationAwareDriverAdapterFactory,
  log: (line: string) => void = () => {},
): Promise<SchemaEngine> {
  const bg = await loadBindings();
  // The engine expects the Result-returning ({ ok, value }) adapter shape that the Prisma client uses.
  const bound = bindMigrationAwareSqlAdapterFactory(factory);
  return bg.SchemaEngine.new({ datamodels: [[schema.path, schema.content]] }, log, bound);
}

let running = 0;
let keepAliveTimer: NodeJS.Timeout | undefined;

/** Keeps the event loop alive while `work` runs (the engine's own timers do not). */
export async function keepAlive<T>(work: () => Promise<T>): Promise<T> {
  if (running++ === 0) keepAliveTimer = setInterval(() => {}, 1 << 30);
  try {
    return await work();
  } finally {
    if (--running === 0) clearInterval(keepAliveTimer);
  }
}

/** The engine's errors are plain objects or Errors with a JSON message; make them readable Errors. */
export function engineError(error: unknown): Error {
  if (error instanceof Error && error.name === 'RuntimeError') {
    // A Rust panic traps as `unreachable`; its message went to the registry. (The instance is not
    // replaced: the bindings module caches views of its memory and live engines point into it.)
    const panic = globalThis.PRISMA_WASM_PANIC_REGISTRY?.get();
    return panic ? new Error(`schema engine panicked: ${panic}`, { cause: error }) : error;
  }
  if (error instanceof Error) return error;
  if (typeof error === 'object' && error !== null) {
    const e = error as { message?: unknown; error_code?: unknown; errorCode?: unknown };
    const code = e.error_code ?? e.errorCode;
    const message = typeof e.message === 'string' ? e.message : JSON.stringify(error);
    return new Error(code ? `${String(code)}: ${message}` : message, { cause: error });
  }
  return new Error(String(error));
}
