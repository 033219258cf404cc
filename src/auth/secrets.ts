/**
 * Key secrets: generated, digested, read from the Authorization header, and the API_KEYS variable.
 *
 * Stored keys keep only SHA-256(secret). A slow password hash (bcrypt, scrypt) exists to make guessing a
 * low-entropy password from its hash expensive; a generated secret carries 256 random bits, which no
 * guessing reaches, so a fast hash loses nothing, lets a key be looked up by its digest, and costs a
 * microsecond per request. Secrets of API_KEYS are chosen by the deployer: at least 16 characters are
 * required, and the README asks for generated ones.
 */
import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isRole, ROLES, type Role } from './roles.ts';

/** marks a vigil key in logs, configs and secret scanners */
export const SECRET_PREFIX = 'vgl_';
export const MIN_SECRET_LENGTH = 16;
/** longer bearer tokens are refused without hashing them */
export const MAX_SECRET_LENGTH = 256;

export function generateSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64url')}`;
}

/** SHA-256 of the secret (one-shot `crypto.hash`: half the cost of a Hash object per request) */
export function digestOf(secret: string): Buffer {
  return hash('sha256', secret, 'buffer');
}

/**
 * Constant-time equality of two digests. The lookup that found the candidate compared digests, not
 * secrets, so timing there says nothing usable about a secret; this confirms the match without
 * adding a variable-time comparison of its own.
 */
export function sameDigest(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export type BearerToken = { kind: 'none' } | { kind: 'malformed' } | { kind: 'token'; secret: string };

/** `Bearer <secret>` (the scheme in any case, RFC 9110 §11.1), parsed without a regular expression */
export function parseBearer(header: string | null | undefined): BearerToken {
  if (header === null || header === undefined || header === '') return { kind: 'none' };
  const value = header.trim();
  const space = value.indexOf(' ');
  if (space < 0 || value.slice(0, space).toLowerCase() !== 'bearer') return { kind: 'malformed' };
  const secret = value.slice(space + 1).trim();
  if (secret === '' || secret.length > MAX_SECRET_LENGTH || !isPrintable(secret)) return { kind: 'malformed' };
  return { kind: 'token', secret };
}

/** visible ASCII only: what a header value can carry unambiguously, and what a config line survives */
function isPrintable(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

export interface EnvironmentKey {
  /** `env-<position>`: how logs and `apiKeys` name it (the secret is never shown) */
  name: string;
  role: Role;
  secret: string;
}

/**
 * API_KEYS: comma-separated `role:secret` pairs. Throws an Error naming the entry by position and
 * role, never by its secret (the message reaches the console and process supervisors' logs).
 */
export function parseApiKeys(raw: string | undefined): EnvironmentKey[] {
  if (!raw?.trim()) return [];
  const keys: EnvironmentKey[] = [];
  const positions = new Map<string, number>();
  const entries = raw.split(',');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!.trim();
    const position = i + 1;
    if (entry === '') continue; // a trailing comma
    const colon = entry.indexOf(':');
    if (colon < 0) throw new Error(`API_KEYS entry ${position}: expected role:secret (roles: ${ROLES.join(', ')})`);
    const role = entry.slice(0, colon);
    const secret = entry.slice(colon + 1);
    if (!isRole(role))
      throw new Error(
        `API_KEYS entry ${position}: unknown role '${printable(role)}' (expected one of ${ROLES.join(', ')})`,
      );
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new Error(
        `API_KEYS entry ${position} (${role}): the secret has ${secret.length} characters, at least ${MIN_SECRET_LENGTH} are required (generate one: openssl rand -base64 32)`,
      );
    }
    if (secret.length > MAX_SECRET_LENGTH)
      throw new Error(
        `API_KEYS entry ${position} (${role}): the secret is longer than ${MAX_SECRET_LENGTH} characters`,
      );
    if (!isPrintable(secret))
      throw new Error(
        `API_KEYS entry ${position} (${role}): the secret may hold visible ASCII characters only (no spaces)`,
      );
    const earlier = positions.get(secret);
    if (earlier !== undefined) throw new Error(`API_KEYS entries ${earlier} and ${position} have the same secret`);
    positions.set(secret, position);
    keys.push({ name: `env-${position}`, role, secret });
  }
  return keys;
}

/** a role as the user typed it, shortened and stripped of control characters for the message */
function printable(text: string): string {
  let out = '';
  for (const ch of text.slice(0, 20)) out += isPrintable(ch) ? ch : '?';
  return text.length > 20 ? `${out}…` : out;
}
