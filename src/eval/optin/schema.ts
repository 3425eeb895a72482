// The shape of an opt-in experiment's report.json (version 2, issue 11): every output format an app can
// receive judged side by side, every attacker per protocol, the stages with their status, seconds and
// errors (the report is rewritten after every stage, so a failed run keeps what it computed), the
// verdicts from the 95% intervals, and the words the numbers need.
import type { Int8Cost } from '../../deploy/int8-cost.js';
import type { AttackProtocol, ProtocolSplit } from '../../data/protocols.js';
import type { EpochRecord } from '../../methods/classifier.js';
import type { ObfuscatorEpoch } from '../../methods/obfuscator.js';
import type { AdrReport, SpecSystemReport } from '../baselines.js';
import type { ClassScores } from '../metrics.js';
import type { VerificationResult } from '../verification.js';
import type { ExperimentConfig, ExperimentName, OutputFormat } from './config.js';

/** One attacked attribute through one output format an app receives. */
export interface FormatAttack {
  /** The clean classifier on the shipped test output (the ignorant attacker). */
  ignorant: ClassScores;
  /** A classifier trained on the shipped TRAINING output of this format (absent where the config skips it). */
  informed?: ClassScores;
  informedHistory?: EpochRecord[];
  /** The co-trained deobfuscator F_μ on the shipped output, then the clean classifier: in-training (optimistic). */
  inTraining: ClassScores;
  /** Fresh inversion attackers (trained against the frozen obfuscator), then the clean classifier, by network name. */
  inversion: Record<string, ClassScores>;
  /** The app's view: a classifier on T's posteriors of this format's shipped training output (task-output.ts). */
  taskOutput?: ClassScores;
}

/** One attacked attribute under one protocol: the clean classifier and every attacker per format. */
export interface AttackResult {
  attribute: string;
  classes: string[];
  protocol: AttackProtocol;
  /** On this protocol's speakers the attribute is a function of the granted task (gender under closed-set speaker ID). */
  functionOfTask: boolean;
  /** The clean classifier on clean test audio (the paper's circles). */
  clean: ClassScores;
  /**
   * A classifier on T's posteriors of clean audio (task-output.ts): the floor of any obfuscator that keeps T's
   * posterior, against an attacker who holds T. Absent in reports made before it.
   */
  taskOutputClean?: ClassScores;
  cleanHistory: EpochRecord[];
  formats: Partial<Record<OutputFormat, FormatAttack>>;
}

/** A fresh inversion network: its size, what it trained on, and its validation curve. */
export interface InversionRecord {
  name: string;
  format: OutputFormat;
  channels: number;
  residualBlocks: number;
  parameters: number;
  /** The protocol whose training (and validation) utterances it learned from. */
  protocol: AttackProtocol;
  trainUtterances: number;
  bestEpoch: number;
  history: { epoch: number; trainMse: number; valMse: number; seconds: number }[];
}

/** A stage of the run: done, failed (with its error) or skipped (with the reason), and its wall time. */
export interface StageRecord {
  name: string;
  status: 'done' | 'failed' | 'skipped';
  seconds: number;
  error?: string;
}

/** A claim checked against the 95% intervals, in words. */
export interface Verdict {
  claim: string;
  /** True only when the intervals show it. */
  holds: boolean;
  /** 'inconclusive': the interval is too wide to show the claim or its opposite. */
  status: 'holds' | 'fails' | 'inconclusive';
  detail: string;
  /** False for a closed-set result of an attribute that the granted task determines (shown, not judged). */
  judged: boolean;
  attribute?: string;
  protocol?: AttackProtocol;
  format?: OutputFormat;
}

export interface ExperimentReport {
  format: 'earmark-experiment-report';
  version: 2;
  experiment: ExperimentName;
  title: string;
  dataset: { name: string; root: string; counts: Record<string, number>; skipped: number };
  config: ExperimentConfig;
  /** Every stage so far, in order (a report written mid-run lists the stages done). */
  stages: StageRecord[];
  /** The attackers' protocols: their utterance ids (attacker train/val/test) and how they were made; unavailable ones with the reason. */
  protocols?: {
    splits: Partial<Record<AttackProtocol, ProtocolSplit>>;
    unavailable: Partial<Record<AttackProtocol, string>>;
    primary: AttackProtocol;
  };
  /** T on clean test audio and on each shipped format (the deployed windowed rule; PCM re-analysed). */
  target?: {
    task: string;
    classes: string[];
    clean: ClassScores;
    formats: Partial<Record<OutputFormat, ClassScores>>;
    history: EpochRecord[];
  };
  obfuscator?: {
    parameters: number;
    deobfuscatorParameters: number;
    history: ObfuscatorEpoch[];
    selectedEpoch: number;
  };
  /** The exported obfuscator (the deployed rule; its path relative to the run folder) and the fixed output level it de-normalises with. */
  deployed?: { onnx: string; outputMean: number; outputStd: number; synthesis: string };
  attacks?: AttackResult[];
  inversion?: InversionRecord[];
  /** Systems judged beside the obfuscator with the same attackers (absent when switched off). */
  baselines?: { adr?: AdrReport; mcadams?: Partial<Record<AttackProtocol, SpecSystemReport>>; notes: string[] };
  verification?: VerificationResult[];
  /** The deployed obfuscator in float32 and int8 (paths relative to the run folder): T's accuracy and each primary-protocol frames informed attacker's. */
  edge?: { int8: string; onnx: string; int8Onnx: string; target: Int8Cost; attacks: Record<string, Int8Cost> };
  /** What the numbers need said in words (functions of the granted task, unavailable protocols, …). */
  notes: string[];
  verdicts: Verdict[];
  seconds: Record<string, number>;
  createdAt: string;
}
