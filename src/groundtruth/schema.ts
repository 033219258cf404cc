/**
 * Ground truth in GraphQL: `putGroundTruth` (a batch, one outcome per item) and `Capture.groundTruth`.
 *
 *   putGroundTruth(input: [{ capture: { eventId: "…" }, label: "14" }]) {
 *     __typename
 *     ... on GroundTruthBatch { stored failed items { __typename ... on GroundTruth { classId label } ... on VigilError { code message } } }
 *     ... on VigilError { code message }
 *   }
 */
import { CaptureRef } from '../capture/schema.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { builder } from '../schema/builder.ts';
import type { GroundTruthOutcome } from './service.ts';
import { type GroundTruthRecord, MAX_GROUND_TRUTH_ITEMS, MAX_KEY_LENGTH } from './types.ts';

export const GroundTruthRef = builder.objectRef<GroundTruthRecord>('GroundTruth').implement({
  description: "A capture's true class, received after its prediction",
  fields: (t) => ({
    captureId: t.exposeID('captureId'),
    eventId: t.exposeString('eventId'),
    classId: t.exposeInt('classId'),
    label: t.string({
      description: "the class's name in the capture's model",
      resolve: (g, _args, { services }) => services.models.label(g.model, g.classId),
    }),
    receivedAt: t.field({
      type: 'DateTime',
      description: 'when this label was first received (sending the same label again keeps it)',
      resolve: (g) => g.receivedAt,
    }),
  }),
});

const CaptureKeyInput = builder.inputType('CaptureKey', {
  description: `Which capture: exactly one of its eventId (Model Monitor's merge key) or its id (up to ${MAX_KEY_LENGTH} characters)`,
  isOneOf: true,
  fields: (t) => ({
    eventId: t.string(),
    captureId: t.id(),
  }),
});

const GroundTruthInput = builder.inputType('GroundTruthInput', {
  fields: (t) => ({
    capture: t.field({ type: CaptureKeyInput, required: true }),
    label: t.string({
      required: true,
      description: 'the true class: its number ("14") or its name in the model ("Stop")',
    }),
  }),
});

interface GroundTruthBatch {
  outcomes: GroundTruthOutcome[];
}

const GroundTruthBatchRef = builder.objectRef<GroundTruthBatch>('GroundTruthBatch').implement({
  description: 'The outcome of each label of a putGroundTruth call, in order; each is stored or refused on its own',
  fields: (t) => ({
    stored: t.int({ resolve: (b) => b.outcomes.filter((o) => !(o instanceof Error)).length }),
    failed: t.int({ resolve: (b) => b.outcomes.filter((o) => o instanceof Error).length }),
    items: t.field({
      type: [GroundTruthRef],
      description: 'one per label: the stored label, or why it was refused (no such capture, a label the model lacks)',
      itemErrors: { types: [NotFoundError, ValidationError], union: { name: 'GroundTruthBatchItem' } },
      resolve: (b) => b.outcomes.map((o) => (o instanceof Error ? Promise.reject(o) : o)),
    }),
  }),
});

builder.mutationFields((t) => ({
  putGroundTruth: t.field({
    type: GroundTruthBatchRef,
    description: `Stores the true class of past predictions (1–${MAX_GROUND_TRUTH_ITEMS} labels); the last label of a capture wins`,
    errors: { types: [ValidationError] },
    args: { input: t.arg({ type: [GroundTruthInput], required: true }) },
    resolve: async (_root, { input }, { services }) => ({
      outcomes: await services.groundTruth.putBatch(
        input.map((item) => ({
          capture: {
            eventId: item.capture.eventId,
            captureId:
              item.capture.captureId === null || item.capture.captureId === undefined
                ? null
                : String(item.capture.captureId),
          },
          label: item.label,
        })),
      ),
    }),
  }),
}));

builder.objectField(CaptureRef, 'groundTruth', (t) =>
  t.field({
    type: GroundTruthRef,
    nullable: true,
    description: 'its true class, once received (putGroundTruth, POST /ground-truth)',
    resolve: (c, _args, { loaders }) => loaders.groundTruthOfCapture.load(c.id),
  }),
);
