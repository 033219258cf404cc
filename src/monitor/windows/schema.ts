/** The GraphQL type of a window's class count, listed by baselines and executions. */
import { builder } from '../../schema/builder.ts';
import type { ClassCount } from './class-counts.ts';

export const ClassCountRef = builder.objectRef<ClassCount>('MonitoringClassCount').implement({
  fields: (t) => ({
    classId: t.exposeInt('classId'),
    label: t.exposeString('label'),
    count: t.exposeInt('count'),
    share: t.exposeFloat('share', { description: 'of the predictions with a class, 0–1' }),
  }),
});
