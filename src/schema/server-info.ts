/** `serverInfo`: what this process runs (version, database, event bus, models). */

import type { ServerInfo } from '../context.ts';
import { builder } from './builder.ts';

export const ServerInfoRef = builder.objectRef<ServerInfo>('ServerInfo').implement({
  fields: (t) => ({
    version: t.exposeString('version'),
    databaseProvider: t.exposeString('databaseProvider', { description: 'sqlite or postgresql' }),
    eventBus: t.exposeString('eventBus', { description: 'memory (one instance) or redis (replicas)' }),
    instanceId: t.exposeString('instanceId'),
    models: t.stringList({ resolve: (_i, _a, { services }) => services.models.list().map((m) => m.name) }),
  }),
});

builder.queryFields((t) => ({
  serverInfo: t.field({ type: ServerInfoRef, resolve: (_root, _args, { services }) => services.info }),
}));
