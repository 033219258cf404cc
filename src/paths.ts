/**
 * Containment of server-side paths a client names (a baseline's image directory, an external check's
 * script): a path counts as inside a root only once symbolic links and `..` are resolved on both sides,
 * so neither a link nor a relative climb leads out.
 */
import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * The real path of `target` (resolved against `base`) when it exists and lies inside one of `roots`
 * (or is one); null otherwise, whichever the reason, so a caller cannot tell a missing path from a
 * forbidden one.
 */
export async function realPathInside(target: string, roots: readonly string[], base = '.'): Promise<string | null> {
  const real = await fs.realpath(path.resolve(base, target)).catch(() => null);
  if (!real) return null;
  const realRoots = await Promise.all(roots.map((r) => fs.realpath(r).catch(() => null)));
  const inside = realRoots.some(
    (r) => r !== null && (real === r || real.startsWith(r.endsWith(path.sep) ? r : r + path.sep)),
  );
  return inside ? real : null;
}
