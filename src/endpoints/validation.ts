/** Rules for endpoint names and configurations; each failure names the field it is about. */

import { COLLECTION_NAMES, isCollectionName } from '../debugger/collections.ts';
import { checkRegexSyntax } from '../debugger/regex-guard.ts';
import { ValidationError } from '../errors.ts';
import { validateRetentionDays } from '../retention/days.ts';
import { CAPTURE_MODES, type DataCaptureConfig, type DebugHookConfig } from './types.ts';

const NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

export function validateName(name: string): void {
  if (!NAME.test(name)) {
    throw new ValidationError(
      'name',
      `Endpoint name '${name}' is invalid: use 1–63 letters, digits and hyphens, starting and ending with a letter or digit`,
    );
  }
}

export function validateDataCapture(c: DataCaptureConfig): void {
  if (!Number.isFinite(c.samplingPercentage) || c.samplingPercentage < 0 || c.samplingPercentage > 100) {
    throw new ValidationError(
      'dataCapture.samplingPercentage',
      `samplingPercentage must be between 0 and 100, got ${c.samplingPercentage}`,
    );
  }
  if (!CAPTURE_MODES.includes(c.captureMode)) {
    throw new ValidationError('dataCapture.captureMode', `captureMode must be one of ${CAPTURE_MODES.join(', ')}`);
  }
  validateRetentionDays(c.retentionDays, 'dataCapture.retentionDays');
}

export function validateDebugHook(h: DebugHookConfig): void {
  // its syntax here; what it selects (and whether it finishes) when the endpoint service resolves it
  if (h.includeRegex !== null) checkRegexSyntax(h.includeRegex, 'debugHook.includeRegex');
  if (!Number.isInteger(h.saveInterval) || h.saveInterval < 1 || h.saveInterval > 1_000_000) {
    throw new ValidationError('debugHook.saveInterval', `saveInterval must be an integer ≥ 1, got ${h.saveInterval}`);
  }
  if (h.collections.length > COLLECTION_NAMES.length) {
    throw new ValidationError(
      'debugHook.collections',
      `collections may name each of the ${COLLECTION_NAMES.length} collections once, got ${h.collections.length} names`,
    );
  }
  for (const name of h.collections) {
    if (!isCollectionName(name)) {
      throw new ValidationError(
        'debugHook.collections',
        `Unknown collection '${name}': known collections are ${COLLECTION_NAMES.join(', ')}`,
      );
    }
  }
  validateRetentionDays(h.retentionDays, 'debugHook.retentionDays');
  if (h.enabled && h.includeRegex === null && h.collections.length === 0) {
    throw new ValidationError(
      'debugHook',
      'An enabled debug hook needs includeRegex or at least one collection to know which tensors to save',
    );
  }
}
