/**
 * Roles and who is calling. A key has one role; an operation or route requires one. The roles are
 * permissions, not a ladder: `invoke` can predict and nothing else (a serving client needs no access to
 * other callers' captured images), `read` can read everything and change nothing (dashboards, Prometheus,
 * exports), and `admin` holds every permission. Anonymous callers exist only while no key exists at all
 * (README "Deployment"), and hold every permission too.
 */
export const ROLES = ['admin', 'invoke', 'read'] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/** the caller of one request or WebSocket connection */
export type Identity =
  | { kind: 'key'; keyName: string; role: Role }
  /** no key configured: local use; `address` is the remote address its rate limit is kept by */
  | { kind: 'anonymous'; address: string };

/** whether the caller holds the permission that `required` names */
export function allows(identity: Identity, required: Role): boolean {
  return identity.kind === 'anonymous' || identity.role === 'admin' || identity.role === required;
}

/** how the caller is named in messages and logs (never the secret) */
export function describeCaller(identity: Identity): string {
  return identity.kind === 'anonymous' ? 'anonymous caller' : `key '${identity.keyName}' (role ${identity.role})`;
}
