/**
 * GET /adversarial/<id>.png: an adversarial image createAdversarial stored (role read, as saliency
 * images). 404 for an unknown id; the bytes of an id never change.
 */
import { NotFoundError } from '../errors.ts';
import { binary } from '../server/responses.ts';
import { noRoute, pathSegment, type Route } from '../server/routes.ts';
import type { AttackService } from './service.ts';

export function attackRoutes(attacks: Pick<AttackService, 'png'>): Route[] {
  return [
    {
      method: 'GET',
      path: '/adversarial/',
      role: 'read',
      async handle(_request, url) {
        const file = url.pathname.slice('/adversarial/'.length);
        if (!file.endsWith('.png') || file.includes('/')) throw noRoute(url, '/adversarial/<id>.png');
        const id = pathSegment(file.slice(0, -'.png'.length), 'id');
        // ids are UUIDs: a longer one names nothing, and is not looked up
        if (id.length > 64) throw new NotFoundError('Adversarial', id.slice(0, 64));
        const png = await attacks.png(id);
        return binary(200, png, { 'content-type': 'image/png', 'cache-control': 'private, max-age=86400' });
      },
    },
  ];
}
