/**
 * Safe by default: without any key, vigil answers anonymous callers with every role, which is only
 * safe where nobody else can reach the port. So with no key it listens on a loopback address, and a
 * configuration that binds another address without a key stops at start, unless ALLOW_ANONYMOUS=true
 * says that this is meant (a private network, a sidecar).
 */
import net from 'node:net';
import { ConfigError } from '../config.ts';

/** 127.0.0.0/8, ::1, ::ffff:127.x and `localhost`: addresses only this machine reaches */
export function isLoopbackHost(host: string): boolean {
  const value = host.trim().toLowerCase();
  if (value === 'localhost') return true;
  if (net.isIPv4(value)) return value.startsWith('127.');
  if (net.isIPv6(value)) return value === '::1' || value.startsWith('::ffff:127.');
  return false;
}

export interface BindingRules {
  host: string;
  allowAnonymous: boolean;
}

/** whether anonymous callers may be admitted while no key exists */
export function anonymousPermitted(config: BindingRules): boolean {
  return isLoopbackHost(config.host) || config.allowAnonymous;
}

/** Throws a ConfigError when the server would be open to the network; `anyKey`: a key exists. */
export function checkBinding(config: BindingRules, anyKey: boolean): void {
  if (anyKey || anonymousPermitted(config)) return;
  throw new ConfigError(
    `HOST=${config.host} with no API key: anyone who reaches this address could use every operation, ` +
      'including deleting endpoints. Set API_KEYS=admin:<secret> (e.g. API_KEYS=admin:$(openssl rand -hex 32)), ' +
      'or listen on HOST=127.0.0.1, or set ALLOW_ANONYMOUS=true to serve anonymous callers on this address on purpose',
  );
}

/** the start-up warning of anonymous mode */
export function anonymousWarning(config: BindingRules): string {
  return isLoopbackHost(config.host)
    ? `no API key is configured: every request is anonymous and may do everything (served on ${config.host} only). ` +
        'Set API_KEYS or create a key with createApiKey before exposing vigil (README "Deployment")'
    : `no API key is configured and ALLOW_ANONYMOUS=true: anyone who reaches ${config.host} may do everything, including deleting endpoints`;
}
