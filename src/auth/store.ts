/** Prisma access for stored API keys: rows ↔ records. Only digests are stored, never secrets. */
import { type ApiKeyRow, type Db, isUniqueViolation } from '../db/prisma.ts';
import { isRole, type Role } from './roles.ts';

export interface StoredKey {
  id: string;
  name: string;
  role: Role;
  /** hex SHA-256 of the secret */
  digest: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

function toStoredKey(row: ApiKeyRow): StoredKey {
  // a role this version does not know (a downgrade) grants nothing rather than something
  const role: Role = isRole(row.role) ? row.role : 'read';
  return {
    id: row.id,
    name: row.name,
    role,
    digest: row.digest,
    createdAt: row.createdAt,
    lastUsedAt: row.lastUsedAt,
    revokedAt: row.revokedAt,
  };
}

export class ApiKeyStore {
  constructor(private readonly prisma: Db) {}

  async list(): Promise<StoredKey[]> {
    const rows = await this.prisma.apiKey.findMany({ orderBy: { createdAt: 'asc' } });
    return rows.map(toStoredKey);
  }

  async findByName(name: string): Promise<StoredKey | null> {
    const row = await this.prisma.apiKey.findUnique({ where: { name } });
    return row && toStoredKey(row);
  }

  /** null when the name (or, astronomically unlikely, the digest) is taken */
  async insert(key: Pick<StoredKey, 'id' | 'name' | 'role' | 'digest'>): Promise<StoredKey | null> {
    try {
      return toStoredKey(await this.prisma.apiKey.create({ data: key }));
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
  }

  async revoke(name: string, at: Date): Promise<StoredKey | null> {
    await this.prisma.apiKey.updateMany({ where: { name, revokedAt: null }, data: { revokedAt: at } });
    return this.findByName(name);
  }

  async touch(name: string, at: Date): Promise<void> {
    await this.prisma.apiKey.updateMany({ where: { name, revokedAt: null }, data: { lastUsedAt: at } });
  }
}
