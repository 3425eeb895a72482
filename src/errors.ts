// User-facing errors: a stable `code`, and a message that says what was received and the fix.

export type EarmarkErrorCode =
  | 'EARMARK_NATIVE_MISSING'
  | 'EARMARK_BAD_ARGUMENT'
  | 'EARMARK_STATE_DICT'
  | 'EARMARK_SAFETENSORS'
  | 'EARMARK_CONFIG'
  | 'EARMARK_IO'
  | 'EARMARK_AUDIO'
  | 'EARMARK_DATASET'
  /** A feature transform (McAdams, a spectrogram) failed on audio that decodes: the transform's fault, not the file's. */
  | 'EARMARK_TRANSFORM'
  /** A stage of an experiment failed; report.json marks it and keeps the other stages' results. */
  | 'EARMARK_STAGE'
  | 'EARMARK_CHECKPOINT'
  | 'EARMARK_DEVICE'
  | 'EARMARK_DISTRIBUTED';

export class EarmarkError extends Error {
  readonly code: EarmarkErrorCode;
  constructor(code: EarmarkErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EarmarkError';
    this.code = code;
  }
}
