/** Ground truth as the domain handles it: what a client sends, what is stored, and what a window of labels counts. */

/** which capture a label is for: exactly one of its event id (Model Monitor's merge key) or its capture id */
export interface CaptureKey {
  eventId?: string | null;
  captureId?: string | null;
}

export interface GroundTruthInput {
  capture: CaptureKey;
  /** the true class: its number ("14") or its name in the endpoint's model ("Stop") */
  label: string;
}

/** a capture's stored label */
export interface GroundTruthRecord {
  captureId: string;
  eventId: string;
  /** the capture's endpoint's model, whose labels name the class */
  model: string;
  classId: number;
  /** when this label was first received (the same label sent again keeps it) */
  receivedAt: Date;
}

/** labelled captures of a window counted by (predicted class, true class) */
export interface ConfusionCell {
  predicted: number;
  actual: number;
  count: number;
}

export interface LabelledWindowQuery {
  endpointId: string;
  /** inclusive, by the capture's inferenceTime */
  from: Date;
  /** exclusive */
  to: Date;
  /** only labels received at or before this instant (an execution's start) */
  receivedBy: Date;
}

/** what the monitor reads of ground truth: a window's labelled captures, counted */
export interface LabelledWindows {
  confusion(query: LabelledWindowQuery): Promise<ConfusionCell[]>;
}

/** at most this many labels per putGroundTruth call */
export const MAX_GROUND_TRUTH_ITEMS = 1000;
/** longest event id, capture id or label accepted (ids vigil makes are 36 characters) */
export const MAX_KEY_LENGTH = 200;
