/**
 * createAdversarial over GraphQL:
 *
 *   createAdversarial(input: { image: { base64: "…" }, target: 14, method: DEEPFOOL, endpoint: "signs" }) {
 *     ... on Adversarial { url dataUrl originalClass adversarialClass targetConfidence l2 linf iterations success }
 *     ... on VigilError { code message }
 *   }
 */
import { InvalidImageError, NotFoundError, UnavailableError, ValidationError } from '../errors.ts';
import { pngDataUrl } from '../explain/render.ts';
import { readImageInput } from '../inference/image-input.ts';
import { ImageInput } from '../inference/schema.ts';
import { builder } from '../schema/builder.ts';
import { ATTACK_METHODS, type AttackMethod, DEEPFOOL_OVERSHOOT, DEFAULT_EPSILON } from './methods.ts';
import { type Adversarial, type CreateAdversarialInput, MAX_ATTACK_ITERATIONS, MAX_EPSILON } from './service.ts';

const AttackMethodEnum = builder.enumType('AttackMethod', {
  description:
    `DEEPFOOL: AdvBox's targeted DeepFool, as the write-up ran it (overshoot ${DEEPFOOL_OVERSHOOT}); ` +
    'PGD: projected gradient descent on the L∞ ball of epsilon, random start; BIM: PGD without the random start; ' +
    'FGSM: one signed-gradient step of epsilon',
  values: ATTACK_METHODS,
});

interface AdversarialInputShape extends Omit<CreateAdversarialInput, 'image' | 'method'> {
  image: typeof ImageInput.$inferInput;
  method?: AttackMethod | null | undefined;
}

const CreateAdversarialInputRef = builder.inputRef<AdversarialInputShape>('CreateAdversarialInput').implement({
  fields: (t) => ({
    image: t.field({ type: ImageInput, required: true }),
    target: t.int({ required: true, description: 'the class to reach (14: Stop for the bundled model)' }),
    method: t.field({ type: AttackMethodEnum, description: 'default DEEPFOOL' }),
    endpoint: t.string({ description: "attack this endpoint's model (give endpoint or model)" }),
    model: t.string({ description: 'attack this model by name (give endpoint or model)' }),
    epsilon: t.float({
      description: `PGD, BIM, FGSM: the L∞ radius in pixel levels (0–255 scale), above 0 and at most ${MAX_EPSILON}; default ${DEFAULT_EPSILON}`,
    }),
    stepSize: t.float({
      description: 'PGD, BIM: pixel levels per step, above 0 and at most 64; default max(epsilon/4, 0.5)',
    }),
    maxIterations: t.int({
      description: `1–${MAX_ATTACK_ITERATIONS}; default 100 for DEEPFOOL, 20 for PGD and BIM, 1 for FGSM`,
    }),
  }),
});

export const AdversarialRef = builder.objectRef<Adversarial>('Adversarial').implement({
  description:
    'An adversarial 128×128 PNG; success only when the PNG, decoded again through the predict path, is classified as the target',
  fields: (t) => ({
    id: t.exposeID('id'),
    url: t.string({
      description: 'where the PNG is served (GET, role read)',
      resolve: (a) => `/adversarial/${a.id}.png`,
    }),
    dataUrl: t.string({ description: 'the PNG as a data: URL', resolve: (a) => pngDataUrl(a.png) }),
    model: t.exposeString('model'),
    endpoint: t.exposeString('endpoint', { nullable: true }),
    method: t.field({ type: AttackMethodEnum, resolve: (a) => a.method }),
    target: t.exposeInt('target'),
    originalClass: t.exposeInt('originalClass', { description: 'the class of the uploaded image' }),
    adversarialClass: t.exposeInt('adversarialClass', { description: 'the class of the adversarial PNG' }),
    targetConfidence: t.exposeFloat('targetConfidence', {
      description: 'softmax probability of the target for the adversarial PNG',
    }),
    l2: t.exposeFloat('l2', { description: 'L2 norm of the perturbation over all 128×128×3 values, in pixel levels' }),
    linf: t.exposeFloat('linf', { description: 'largest change of one value, in pixel levels (0–255)' }),
    iterations: t.exposeInt('iterations', { description: 'attack steps taken' }),
    success: t.exposeBoolean('success'),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.createdAt }),
  }),
});

builder.mutationFields((t) => ({
  createAdversarial: t.field({
    type: AdversarialRef,
    description:
      'Attacks an image toward a target class with the debug graph and stores the adversarial PNG; UNAVAILABLE while MAX_CONCURRENT_ATTACKS run',
    errors: { types: [NotFoundError, ValidationError, InvalidImageError, UnavailableError] },
    args: { input: t.arg({ type: CreateAdversarialInputRef, required: true }) },
    resolve: async (_root, { input }, { services, signal }) => {
      const { bytes } = await readImageInput(input.image, 'input.image');
      return services.attacks.create({ ...input, image: bytes, method: input.method ?? 'DEEPFOOL' }, signal);
    },
  }),
}));
