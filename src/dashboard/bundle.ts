/**
 * The dashboard's browser code, bundled in memory by esbuild from `client/` when the first page is asked
 * for (a few hundred ms, once per process; `main.ts` starts it right after listening). So `npm start`
 * serves it with no build step of its own, from what npm installed: nothing is fetched from a CDN.
 */
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

export interface DashboardBundle {
  js: Uint8Array<ArrayBuffer>;
  css: Uint8Array<ArrayBuffer>;
  /** a digest of both, for ETag and the assets' URLs */
  version: string;
  builtMs: number;
}

const ENTRY = fileURLToPath(new URL('./client/main.tsx', import.meta.url));

export async function bundleDashboard(): Promise<DashboardBundle> {
  const started = performance.now();
  const result = await build({
    entryPoints: [ENTRY],
    bundle: true,
    write: false,
    outdir: 'dashboard',
    entryNames: 'app',
    format: 'esm',
    target: 'es2022',
    platform: 'browser',
    jsx: 'automatic',
    jsxImportSource: 'preact',
    // minified always: unminified output names the build machine's paths (node_modules/…) in comments
    minify: true,
    legalComments: 'none',
    logLevel: 'silent',
  });
  const file = (extension: string) => {
    const found = result.outputFiles.find((f) => f.path.endsWith(extension));
    if (!found) throw new Error(`the dashboard bundle has no ${extension} output`);
    // copied once into a buffer of its own, which a Response takes as it is (no copy per request)
    return new Uint8Array(found.contents);
  };
  const js = file('.js');
  const css = file('.css');
  const version = createHash('sha256').update(js).update(css).digest('hex').slice(0, 16);
  return { js, css, version, builtMs: performance.now() - started };
}

/** one bundle per process, built on first use; a failed build is retried on the next request */
export function dashboardBundler(): () => Promise<DashboardBundle> {
  let pending: Promise<DashboardBundle> | undefined;
  return () => {
    pending ??= bundleDashboard().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
