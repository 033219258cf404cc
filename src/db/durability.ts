/**
 * DURABILITY: what an acknowledged write survives, chosen per deployment.
 *
 * | level | SQLite | PostgreSQL | an acknowledged write survives |
 * |---|---|---|---|
 * | `normal` | `synchronous = NORMAL` (WAL synced at checkpoints) | `synchronous_commit = off` | a crash of the vigil process; an OS crash or power loss of the database's host may lose the last commits (PostgreSQL: up to 3 × `wal_writer_delay`, 0.6 s by default), never corrupting the database |
 * | `strict` | `synchronous = FULL` (WAL synced at every commit) | `synchronous_commit = on` | also an OS crash or power loss of the database's host (PostgreSQL: and of the primary, when a synchronous standby is configured) |
 *
 * The group commit amortises the sync over every request of a group, so `strict` costs one sync per
 * group, not per request.
 */
import type { DatabaseTarget } from './url.ts';

export const DURABILITY_LEVELS = ['normal', 'strict'] as const;
export type Durability = (typeof DURABILITY_LEVELS)[number];

/** SQLite's `PRAGMA synchronous` for each level, and its numeric value as the pragma reads back */
export const SQLITE_SYNCHRONOUS = {
  normal: { name: 'NORMAL', value: 1 },
  strict: { name: 'FULL', value: 2 },
} as const satisfies Record<Durability, { name: string; value: number }>;

/** PostgreSQL's `synchronous_commit` for each level (set per connection) */
export const POSTGRES_SYNCHRONOUS_COMMIT = { normal: 'off', strict: 'on' } as const satisfies Record<
  Durability,
  string
>;

/** the setting a level means on a database, as the database reports it (`PRAGMA synchronous`, `SHOW synchronous_commit`) */
export function expectedSetting(provider: DatabaseTarget['provider'], durability: Durability): string {
  return provider === 'sqlite' ? String(SQLITE_SYNCHRONOUS[durability].value) : POSTGRES_SYNCHRONOUS_COMMIT[durability];
}
