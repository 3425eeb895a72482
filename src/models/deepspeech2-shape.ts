// DeepSpeech2's configuration type and shape arithmetic, free of libtorch so the edge exporter
// (src/edge, onnxruntime only) can share them with the model (src/models/deepspeech2.ts).

export interface DeepSpeech2Config {
  /** Input frequency bins (161 for the DS2 spectrogram). */
  nFreq: number;
  /** Channels of both convolutions (paper: 16; deepspeech.pytorch: 32). */
  convChannels: number;
  /** Recurrent layers (paper and reference: 5). */
  rnnLayers: number;
  /** Hidden size of each recurrent layer (paper: 64). */
  hiddenSize: number;
  /** 'lstm' (reference v2/v3) or 'gru' (older releases). */
  rnnType: 'lstm' | 'gru';
  /** Output classes K. */
  numClasses: number;
}

/** Frequency rows after the two stride-2 convolutions: 161 → 81 → 41. */
export function ds2ConvFreq(nFreq: number): number {
  const f1 = Math.floor((nFreq + 2 * 20 - 41) / 2) + 1;
  return Math.floor((f1 + 2 * 10 - 21) / 2) + 1;
}

/** Output steps for T input frames (time stride 2): ⌈T/2⌉. */
export function ds2OutputSteps(frames: number): number {
  return Math.floor((frames + 2 * 5 - 11) / 2) + 1;
}
