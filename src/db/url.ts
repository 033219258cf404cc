/** What a DATABASE_URL names: an embedded SQLite file or a PostgreSQL server (and schema). */
import path from 'node:path';

export type DatabaseTarget =
  | { provider: 'sqlite'; url: string; file: string }
  | {
      provider: 'postgresql';
      url: string;
      /** the connection string without Prisma's `schema` parameter */
      connectionString: string;
      schema: string;
    };

export function parseDatabaseUrl(url: string): DatabaseTarget {
  if (url.startsWith('file:')) {
    const file = path.resolve(url.slice('file:'.length).replace(/^\/\/(?=\/)/, ''));
    return { provider: 'sqlite', url, file };
  }
  if (/^postgres(ql)?:\/\//.test(url)) {
    const parsed = new URL(url);
    const schema = parsed.searchParams.get('schema') ?? 'public';
    parsed.searchParams.delete('schema');
    return { provider: 'postgresql', url, connectionString: parsed.toString(), schema };
  }
  throw new Error(`unsupported DATABASE_URL '${url}': expected file:<path> or postgresql://…`);
}
