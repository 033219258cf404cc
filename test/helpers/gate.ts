/** A gate for servers built without the app (createServer alone): no key exists, anonymous callers on loopback. */
import { Gate } from '../../src/auth/gate.ts';
import { RateLimiter } from '../../src/auth/rate-limit.ts';

export function localGate(): Gate {
  const noKeys = { keys: () => ({ anyKey: () => false, match: () => null }), onReload: () => () => {} };
  return new Gate(noKeys, new RateLimiter({ admin: null, invoke: null, read: null, anonymous: null }), true);
}
