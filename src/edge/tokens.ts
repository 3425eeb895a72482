// Grants: one bearer token per app, bound to ONE task and its obfuscator model. The store keeps only
// the token's SHA-256 (a token is 32 random bytes, so a fast hash is enough; no password stretching
// needed), written atomically (temp file + fsync + rename) with mode 0600.
// Token format: `emk_<id>_<secret>`: the 8-hex-digit id is public (it names the grant for revoke and
// logs), the 43-character base64url secret is shown once, at grant time.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { EarmarkError } from '../errors.js';
import { writeFileAtomicSync } from '../util/atomic.js';

export interface Grant {
  id: string;
  /** sha256 of the whole token, hex. */
  hash: string;
  task: string;
  /** Absolute path of the obfuscator .onnx this grant streams through. */
  model: string;
  created: string;
  /** ISO time of revocation; revoked grants stay listed so logs can name them. */
  revoked?: string;
}

interface StoreFile {
  version: 1;
  grants: Grant[];
  /**
   * Set deliberately (`earmark grant --allow-unsafe-original-phase`) to let a sensor serve audio with the
   * input's original STFT phase (`serve --unsafe-original-phase`), which leaks the input.
   */
  allowUnsafeOriginalPhase?: boolean;
}

/** Why a token store cannot be used: the sensor reports these as such (never as a revoked token). */
export type TokenStoreProblem = 'missing' | 'unreadable' | 'corrupted';

/** A token store that is missing, unreadable or corrupted. */
export class TokenStoreError extends EarmarkError {
  readonly problem: TokenStoreProblem;
  constructor(problem: TokenStoreProblem, message: string, options?: { cause?: unknown }) {
    super('EARMARK_IO', message, options);
    this.name = 'TokenStoreError';
    this.problem = problem;
  }
}

const TOKEN_RE = /^emk_([0-9a-f]{8})_([A-Za-z0-9_-]{43})$/;

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

/**
 * The token store file. Every read goes to disk (the CLI and the service share it), so a revoke from
 * another process is seen at the service's next check.
 * @example const { token } = new TokenStore('tokens.json').grant('speaker', 'obf.onnx');
 */
export class TokenStore {
  readonly file: string;

  constructor(file: string) {
    if (typeof file !== 'string' || file === '')
      throw new TypeError(`'file' must be the token store's path, got ${JSON.stringify(file)}`);
    this.file = path.resolve(file);
  }

  /** The grants; [] when the file does not exist. Throws TokenStoreError when it is unreadable or corrupted. */
  read(): Grant[] {
    return this.#readFile()?.grants ?? [];
  }

  /** Whether the file exists. */
  exists(): boolean {
    return existsSync(this.file);
  }

  /**
   * Throws TokenStoreError unless the store exists, reads and parses (what a sensor checks at start).
   * @example new TokenStore('tokens.json').check();
   */
  check(): void {
    if (!existsSync(this.file)) {
      throw new TokenStoreError(
        'missing',
        `token store ${this.file} does not exist, so no app could connect; issue a grant first ` +
          '(`earmark grant --task <task> --model <obfuscator.onnx>`), or start with --allow-empty-store',
      );
    }
    this.#readFile();
  }

  /** Whether the store opts in to serving the unsafe original phase. */
  allowsUnsafeOriginalPhase(): boolean {
    return this.#readFile()?.allowUnsafeOriginalPhase === true;
  }

  /** Opt in to (or out of) serving the unsafe original phase; creates the store if needed. */
  setAllowUnsafeOriginalPhase(allow: boolean): void {
    this.#write(this.read(), allow);
  }

  #readFile(): StoreFile | null {
    if (!existsSync(this.file)) return null;
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (e) {
      throw new TokenStoreError(
        'unreadable',
        `token store ${this.file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); ` +
          'check its permissions (it should belong to the user running the sensor, mode 0600)',
        { cause: e },
      );
    }
    let v: StoreFile;
    try {
      v = JSON.parse(text) as StoreFile;
    } catch (e) {
      throw new TokenStoreError(
        'corrupted',
        `token store ${this.file} is corrupted: not valid JSON (${(e as Error).message}); restore it from a backup, or delete it and grant again`,
      );
    }
    const validGrant = (g: unknown): boolean =>
      g !== null &&
      typeof g === 'object' &&
      ['id', 'hash', 'task', 'model'].every((k) => typeof (g as Record<string, unknown>)[k] === 'string');
    if (
      v === null ||
      typeof v !== 'object' ||
      v.version !== 1 ||
      !Array.isArray(v.grants) ||
      !v.grants.every(validGrant)
    ) {
      throw new TokenStoreError(
        'corrupted',
        `token store ${this.file} is corrupted: it is not a version-1 store with a 'grants' list of {id, hash, task, model}; ` +
          'restore it from a backup, or delete it and grant again',
      );
    }
    return v;
  }

  /** Modification time, for cheap change checks. */
  mtimeMs(): number {
    return existsSync(this.file) ? statSync(this.file).mtimeMs : 0;
  }

  #write(grants: Grant[], allowUnsafe = this.allowsUnsafeOriginalPhase()): void {
    const dir = path.dirname(this.file);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new EarmarkError(
        'EARMARK_IO',
        `cannot write the token store ${this.file}: the folder ${dir} does not exist; create it or choose another --tokens path`,
      );
    }
    const store: StoreFile = { version: 1, grants, ...(allowUnsafe ? { allowUnsafeOriginalPhase: true } : {}) };
    writeFileAtomicSync(this.file, JSON.stringify(store, null, 1) + '\n');
    try {
      chmodSync(this.file, 0o600);
    } catch {
      /* best effort on file systems without modes */
    }
  }

  /**
   * Issue a token for one task through one obfuscator model; returns the token (shown once) and its id.
   */
  grant(task: string, model: string): { token: string; id: string } {
    if (typeof task !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(task)) {
      throw new EarmarkError(
        'EARMARK_BAD_ARGUMENT',
        `--task must be a name of 1–64 letters, digits, '_', '.' or '-', got '${String(task)}'`,
      );
    }
    const abs = path.resolve(model);
    if (!existsSync(abs))
      throw new EarmarkError(
        'EARMARK_BAD_ARGUMENT',
        `--model ${model} does not exist; export the task's obfuscator first`,
      );
    const grants = this.read();
    let id: string;
    do id = randomBytes(4).toString('hex');
    while (grants.some((g) => g.id === id));
    const token = `emk_${id}_${randomBytes(32).toString('base64url')}`;
    grants.push({ id, hash: sha256(token), task, model: abs, created: new Date().toISOString() });
    this.#write(grants);
    return { token, id };
  }

  /** Revoke by id or by the token itself; returns the revoked grant. */
  revoke(idOrToken: string): Grant {
    const m = TOKEN_RE.exec(idOrToken);
    const id = m ? m[1]! : idOrToken;
    const grants = this.read();
    const g = grants.find((x) => x.id === id);
    if (g === undefined || (m && !safeEqualHex(g.hash, sha256(idOrToken)))) {
      throw new EarmarkError(
        'EARMARK_BAD_ARGUMENT',
        `no grant '${id}' in ${this.file}; list them with \`earmark grant --list\``,
      );
    }
    if (g.revoked === undefined) {
      g.revoked = new Date().toISOString();
      this.#write(grants);
    }
    return g;
  }

  /** The live grant a presented token proves, or null (malformed, unknown, wrong secret, revoked). */
  verify(token: string | undefined, grants: Grant[] = this.read()): Grant | null {
    if (typeof token !== 'string') return null;
    const m = TOKEN_RE.exec(token);
    if (!m) return null;
    const g = grants.find((x) => x.id === m[1]);
    if (g === undefined || g.revoked !== undefined) return null;
    return safeEqualHex(g.hash, sha256(token)) ? g : null;
  }
}

function safeEqualHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}
