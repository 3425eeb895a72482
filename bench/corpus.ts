// Built-in corpus build time: the default speech corpus (16 voices × 5 emotions × 12 sentences)
// written to a temporary folder, so the measured build never reuses an existing one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BenchRow } from './types.js';
import { buildSpeechCorpus } from '../src/data/builtin/speech.js';

export async function benchCorpus(): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'earmark-bench-corpus-'));
  try {
    const r = await buildSpeechCorpus({ out: path.join(dir, 'speech'), progress: false });
    return [
      {
        section: 'corpus',
        name: `speech corpus build (${r.clips} clips, ${r.speakers} speakers)`,
        value: r.seconds,
        unit: 's',
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
