/**
 * The dashboard's routes: its page at /dashboard (and / redirecting there) and the two bundled assets.
 * They serve no data, so they are PUBLIC: the page asks for an API key, keeps it for the browser session
 * and sends it with every GraphQL request and in graphql-ws's connection_init, where the roles apply as
 * for any client. The page's Content-Security-Policy allows only this origin (no CDN, no inline script).
 */
import { PUBLIC, type Route } from '../server/routes.ts';
import type { DashboardBundle } from './bundle.ts';

export const DASHBOARD_PATH = '/dashboard';

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "style-src 'self'",
  "script-src 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'none'",
].join('; ');

export function dashboardRoutes(bundle: () => Promise<DashboardBundle>): Route[] {
  const asset = (path: string, contentType: string, pick: (b: DashboardBundle) => Uint8Array<ArrayBuffer>): Route => ({
    method: 'GET',
    path,
    role: PUBLIC,
    async handle(request) {
      const built = await bundle();
      const etag = `"${built.version}"`;
      const headers = { etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' };
      if (request.headers.get('if-none-match') === etag) return new Response(null, { status: 304, headers });
      return new Response(pick(built), { headers: { ...headers, 'content-type': contentType } });
    },
  });
  return [
    {
      method: 'GET',
      path: '/',
      role: PUBLIC,
      handle: () => new Response(null, { status: 302, headers: { location: DASHBOARD_PATH } }),
    },
    {
      method: 'GET',
      path: DASHBOARD_PATH,
      role: PUBLIC,
      async handle() {
        const built = await bundle();
        return new Response(page(built.version), {
          headers: {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': CONTENT_SECURITY_POLICY,
            'x-content-type-options': 'nosniff',
            'referrer-policy': 'no-referrer',
            'cache-control': 'no-cache',
          },
        });
      },
    },
    asset(`${DASHBOARD_PATH}/app.js`, 'text/javascript; charset=utf-8', (b) => b.js),
    asset(`${DASHBOARD_PATH}/app.css`, 'text/css; charset=utf-8', (b) => b.css),
  ];
}

function page(version: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vigil dashboard</title>
<link rel="stylesheet" href="${DASHBOARD_PATH}/app.css?v=${version}">
<script type="module" src="${DASHBOARD_PATH}/app.js?v=${version}"></script>
</head>
<body>
<div id="app"><p>Loading the dashboard…</p></div>
<noscript>The dashboard needs JavaScript.</noscript>
</body>
</html>
`;
}
