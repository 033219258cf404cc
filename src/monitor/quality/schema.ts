/** An execution's model quality in GraphQL: `MonitoringExecution.modelQuality`, linking the confusion matrix files. */
import { builder } from '../../schema/builder.ts';
import { ExecutionRef } from '../executions/schema.ts';
import type { ExecutionRecord } from '../executions/types.ts';
import type { ClassQuality, ModelQualityReport } from './report.ts';

interface Quality {
  execution: ExecutionRecord;
  report: ModelQualityReport;
}

const ClassQualityRef = builder.objectRef<ClassQuality & { model: string }>('ClassQuality').implement({
  description: 'One class of the model-quality window (predicted or labelled there)',
  fields: (t) => ({
    classId: t.exposeInt('classId'),
    label: t.string({ resolve: (c, _args, { services }) => services.models.label(c.model, c.classId) }),
    support: t.exposeInt('support', { description: 'labelled captures whose true class it is' }),
    predicted: t.exposeInt('predicted', { description: 'labelled captures predicted as it' }),
    precision: t.exposeFloat('precision', { nullable: true, description: 'null when never predicted' }),
    recall: t.exposeFloat('recall', { nullable: true, description: 'null when never the true class' }),
    f1: t.exposeFloat('f1'),
  }),
});

const ModelQualityRef = builder.objectRef<Quality>('ModelQuality').implement({
  description:
    "Accuracy over the captures of the execution's window, shifted back by the ground-truth delay, that had a true label when it ran",
  fields: (t) => ({
    windowStart: t.field({ type: 'DateTime', description: 'inclusive', resolve: (q) => q.report.windowStart }),
    windowEnd: t.field({ type: 'DateTime', description: 'exclusive', resolve: (q) => q.report.windowEnd }),
    labelsReceivedBy: t.field({
      type: 'DateTime',
      description: 'labels received later were not counted',
      resolve: (q) => q.report.labelsReceivedBy,
    }),
    groundTruthDelaySeconds: t.int({ resolve: (q) => q.report.groundTruthDelaySeconds }),
    labelledCount: t.int({ resolve: (q) => q.report.labelledCount }),
    accuracy: t.float({
      nullable: true,
      description: 'null without labelled captures',
      resolve: (q) => q.report.accuracy,
    }),
    macroF1: t.float({ nullable: true, resolve: (q) => q.report.macroF1 }),
    baselineAccuracy: t.float({ nullable: true, resolve: (q) => q.report.baselineAccuracy }),
    classes: t.field({
      type: [ClassQualityRef],
      resolve: (q) => q.report.classes.map((c) => ({ ...c, model: q.execution.model })),
    }),
    confusionMatrix: t.field({
      type: 'JSON',
      description: 'true class → predicted class → count (Model Monitor shape)',
      resolve: (q) => q.report.confusionMatrix,
    }),
    confusionMatrixUrl: t.string({
      description: 'path of the report as JSON',
      resolve: (q) => `/executions/${q.execution.id}/confusion_matrix.json`,
    }),
    confusionMatrixChartUrl: t.string({
      description: 'path of the confusion matrix as a PNG (900 × 820)',
      resolve: (q) => `/executions/${q.execution.id}/confusion_matrix.png`,
    }),
  }),
});

builder.objectField(ExecutionRef, 'modelQuality', (t) =>
  t.field({
    type: ModelQualityRef,
    nullable: true,
    description: "null when the schedule's modelQuality check was off",
    resolve: (e) => (e.modelQuality ? { execution: e, report: e.modelQuality } : null),
  }),
);
