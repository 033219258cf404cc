/** Hash routes (#/endpoints/NAME, #/captures/ID, …): the server serves one page, and a reload keeps the view. */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { view: 'overview' }
  | { view: 'endpoint'; name: string }
  | { view: 'capture'; id: string }
  | { view: 'monitoring' }
  | { view: 'settings' };

export function parseRoute(hash: string): Route {
  const [first, second] = hash.replace(/^#\/?/, '').split('/').map(decodeSegment);
  if (first === 'endpoints' && second) return { view: 'endpoint', name: second };
  if (first === 'captures' && second) return { view: 'capture', id: second };
  if (first === 'monitoring') return { view: 'monitoring' };
  if (first === 'settings') return { view: 'settings' };
  return { view: 'overview' };
}

export function href(route: Route): string {
  switch (route.view) {
    case 'overview':
      return '#/';
    case 'endpoint':
      return `#/endpoints/${encodeURIComponent(route.name)}`;
    case 'capture':
      return `#/captures/${encodeURIComponent(route.id)}`;
    default:
      return `#/${route.view}`;
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
