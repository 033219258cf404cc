/**
 * Where a channel may send: the guard against server-side request forgery. An admin configures the
 * URL, but the server makes the request from inside the network, so a URL must not become a way to
 * reach internal services (a database's HTTP port, a cloud metadata endpoint, an admin page on
 * localhost). The rule, checked when a channel is saved and again before every request:
 *
 * - http or https only, no credentials in the URL, at most 2048 characters;
 * - ALERT_URL_ALLOWLIST empty: any host whose every address is public, over https;
 * - ALERT_URL_ALLOWLIST set: only the hosts it lists (exact names or IP literals), over http or https,
 *   and those may resolve to private or loopback addresses (an internal receiver is opted in by name);
 * - an unspecified address (0.0.0.0, ::) is refused always.
 *
 * The host is resolved here and the request connects to the addresses checked (sender.ts pins them),
 * so a DNS answer that changes between the check and the connection (rebinding) cannot redirect it.
 */
import dns from 'node:dns/promises';
import net from 'node:net';

export const MAX_URL_LENGTH = 2048;
/** a name that does not resolve within this is refused (getaddrinfo has no timeout of its own) */
export const RESOLVE_TIMEOUT_MS = 5000;

/** a URL the rule refuses; `reason` is written for the admin who configured it */
export class DestinationRefused extends Error {
  override name = 'DestinationRefused';
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export interface Destination {
  url: URL;
  /** the checked addresses the request may connect to */
  addresses: ResolvedAddress[];
}

export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

export interface DestinationPolicy {
  /** hostnames as `new URL(…).hostname` writes them (lowercase; IPv6 in brackets) */
  allowlist: readonly string[];
  resolve?: Resolver;
}

/** addresses no alert goes to unless its host is listed: loopback, private, link-local, shared, reserved */
const INTERNAL = new net.BlockList();
for (const [prefix, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  INTERNAL.addSubnet(prefix, bits, 'ipv4');
for (const [prefix, bits] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10],
  ['ff00::', 8],
] as const)
  INTERNAL.addSubnet(prefix, bits, 'ipv6');

/** never a destination, listed or not */
const UNSPECIFIED = new net.BlockList();
UNSPECIFIED.addSubnet('0.0.0.0', 8, 'ipv4');
UNSPECIFIED.addAddress('::', 'ipv6');

function typeOf(family: 4 | 6): 'ipv4' | 'ipv6' {
  return family === 4 ? 'ipv4' : 'ipv6';
}

/** true for loopback, private, link-local and reserved addresses (IPv4-mapped IPv6 included) */
export function isInternalAddress(address: string): boolean {
  const family = net.isIP(address);
  if (!family) return true;
  return INTERNAL.check(address, typeOf(family as 4 | 6));
}

/**
 * ALERT_URL_ALLOWLIST's entries: comma-separated hostnames or IP literals, without scheme, port or path;
 * normalized as URLs write hostnames. Throws a message naming the bad entry.
 */
export function parseHostList(raw: string | undefined): string[] {
  if (!raw?.trim()) return [];
  return raw
    .split(',')
    .map((entry) => entry.trim())
    .filter(Boolean)
    .map((entry) => {
      const literal = net.isIPv6(entry) ? `[${entry}]` : entry;
      const parsed = URL.canParse(`http://${literal}`) ? new URL(`http://${literal}`) : undefined;
      if (
        !parsed ||
        entry.includes('*') ||
        parsed.port !== '' ||
        parsed.username !== '' ||
        parsed.pathname !== '/' ||
        parsed.host !== literal.toLowerCase()
      )
        throw new Error(`'${entry}' is not a host: list hostnames or IP addresses, without scheme, port or path`);
      return parsed.hostname;
    });
}

/** the URL's syntax alone (no resolution): what every save checks first */
export function parseDestinationUrl(raw: string, policy: DestinationPolicy): { url: URL; listed: boolean } {
  if (raw.length > MAX_URL_LENGTH) throw new DestinationRefused(`the URL is longer than ${MAX_URL_LENGTH} characters`);
  // the URL parser would drop tabs and line breaks silently: a URL holding any is refused, not repaired
  for (const c of raw)
    if (c <= ' ' || c === '\u007f') throw new DestinationRefused('the URL holds spaces or control characters');
  const url = URL.canParse(raw) ? new URL(raw) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
    throw new DestinationRefused('expected an http:// or https:// URL');
  if (url.username || url.password) throw new DestinationRefused('credentials in the URL are not accepted');
  const listed = policy.allowlist.includes(url.hostname);
  if (policy.allowlist.length && !listed)
    throw new DestinationRefused(`host '${url.hostname}' is not in ALERT_URL_ALLOWLIST`);
  if (!listed && url.protocol !== 'https:')
    throw new DestinationRefused(`use https:// (plain http only to a host listed in ALERT_URL_ALLOWLIST)`);
  return { url, listed };
}

/** Checks the URL against the policy and resolves its host; DestinationRefused says why not. */
export async function checkDestination(raw: string, policy: DestinationPolicy): Promise<Destination> {
  const { url, listed } = parseDestinationUrl(raw, policy);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const literal = net.isIP(host);
  const addresses: ResolvedAddress[] = literal
    ? [{ address: host, family: literal as 4 | 6 }]
    : await (policy.resolve ?? resolveHost)(host);
  if (!addresses.length) throw new DestinationRefused(`host '${host}' has no address`);
  for (const { address, family } of addresses) {
    if (UNSPECIFIED.check(address, typeOf(family)))
      throw new DestinationRefused(`host '${host}' resolves to ${address}, an unspecified address`);
    if (!listed && INTERNAL.check(address, typeOf(family)))
      throw new DestinationRefused(
        `host '${host}' resolves to ${address}, a loopback, private or reserved address: list the host in ALERT_URL_ALLOWLIST to allow it`,
      );
  }
  return { url, addresses };
}

async function resolveHost(host: string): Promise<ResolvedAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(new DestinationRefused(`host '${host}' did not resolve within ${RESOLVE_TIMEOUT_MS} ms`)),
      RESOLVE_TIMEOUT_MS,
    );
  });
  try {
    const found = await Promise.race([dns.lookup(host, { all: true, verbatim: true }), timeout]);
    return found.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
  } catch (error) {
    if (error instanceof DestinationRefused) throw error;
    throw new DestinationRefused(`host '${host}' does not resolve (${(error as { code?: string }).code ?? 'error'})`);
  } finally {
    clearTimeout(timer);
  }
}
