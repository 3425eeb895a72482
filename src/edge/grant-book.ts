// The sensor's view of its token store: the grants as last read (re-read when the file changes), and
// whether the store is usable. An unusable store grants nothing (fail closed) and says why.
import { EarmarkError } from '../errors.js';
import type { SynthesisConfig } from './synthesis.js';
import { TokenStoreError, type Grant, type TokenStore, type TokenStoreProblem } from './tokens.js';

export class GrantBook {
  readonly store: TokenStore;
  readonly #allowEmpty: boolean;
  readonly #log: (line: string) => void;
  #grants: Grant[] = [];
  #mtime = -1;
  #problem: TokenStoreProblem | null = null;

  constructor(store: TokenStore, allowEmptyStore: boolean, log: (line: string) => void) {
    this.store = store;
    this.#allowEmpty = allowEmptyStore;
    this.#log = log;
  }

  /** The grants as last read ([] while the store is unusable). */
  get grants(): readonly Grant[] {
    return this.#grants;
  }

  /** Why the store grants nothing right now (null when it is usable). */
  get problem(): TokenStoreProblem | null {
    return this.#problem;
  }

  /** At start: the store must exist and parse (unless allowEmptyStore), and opt in to the unsafe phase if asked. */
  checkAtStart(synthesis: SynthesisConfig): void {
    const store = this.store;
    try {
      store.check();
    } catch (e) {
      if (!(e instanceof TokenStoreError) || e.problem === 'corrupted' || !this.#allowEmpty) throw e;
      this.#log(
        `token store ${store.file} is ${e.problem}: starting anyway (--allow-empty-store); every app is refused until a grant exists`,
      );
    }
    if (synthesis.method === 'unsafe-original-phase' && !(store.exists() && store.allowsUnsafeOriginalPhase())) {
      throw new EarmarkError(
        'EARMARK_BAD_ARGUMENT',
        `--unsafe-original-phase is refused: the token store ${store.file} does not opt in. The original phase ` +
          'leaks the input to every app; if you really mean it, run `earmark grant --allow-unsafe-original-phase` on that store first',
      );
    }
  }

  /** Re-read the store when it changed (or was unusable); record a problem instead of throwing. */
  refresh(): void {
    const store = this.store;
    try {
      if (!store.exists()) {
        this.#grants = [];
        this.#mtime = -1;
        this.#setProblem(this.#allowEmpty ? null : 'missing');
        return;
      }
      const m = store.mtimeMs();
      if (m !== this.#mtime || this.#problem !== null) {
        this.#grants = store.read();
        this.#mtime = m;
      }
      this.#setProblem(null);
    } catch (e) {
      this.#grants = [];
      this.#mtime = -1;
      this.#setProblem(e instanceof TokenStoreError ? e.problem : 'unreadable', (e as Error).message);
    }
  }

  /** The active grant a token names, or null (also while the store is unusable). */
  verify(token: string | undefined): Grant | null {
    return this.#problem === null && token ? this.store.verify(token, this.#grants) : null;
  }

  #setProblem(p: TokenStoreProblem | null, detail = ''): void {
    if (p !== this.#problem)
      this.#log(
        p === null
          ? 'token store readable again'
          : `token store ${p}, refusing every app: ${detail || this.store.file}`,
      );
    this.#problem = p;
  }
}
