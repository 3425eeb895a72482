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
