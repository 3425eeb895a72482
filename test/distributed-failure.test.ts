// A rank that dies or hangs ends the job with a clear error in bounded time, never a hang: the surviving
// rank's collective fails naming the op and the likely cause, its event loop keeps turning meanwhile,
// `launch()` stops the others and names the rank, and a rank whose peers never come gives up after the
// timeout. The worker is test/distributed/fail-worker.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { freePort, initProcessGroup, rankEnv, readTorchrunEnv } from '../src/distributed/index.js';
import { EarmarkError } from '../src/errors.js';
import { dump, runRanks, workerPath } from './distributed/harness.js';

interface Rank {
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  line(re: RegExp): Promise<string>;
}

/** Start the fail worker as one rank by hand (no launcher), so the test can kill it. */
function startRank(rank: number, port: number, cfg: object): Rank {
  const child = spawn(process.execPath, [workerPath('fail-worker'), JSON.stringify(cfg)], {
    env: { ...process.env, ...rankEnv(rank, 2, port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: [RegExp, (l: string) => void][] = [];
  const onLine = (l: string): void => {
    lines.push(l);
    for (const w of waiters.filter(([re]) => re.test(l))) {
      waiters.splice(waiters.indexOf(w), 1);
      w[1](l);
    }
  };
  createInterface({ input: child.stdout! }).on('line', onLine);
  createInterface({ input: child.stderr! }).on('line', onLine);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const line = (re: RegExp): Promise<string> => {
    const seen = lines.find((l) => re.test(l));
    return seen !== undefined ? Promise.resolve(seen) : new Promise((resolve) => waiters.push([re, resolve]));
  };
  return { child, lines, exited, line };
}

/** Resolve with `p`, or reject after `ms` (the bound each scenario must meet). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

function killAll(ranks: Rank[]): void {
  for (const r of ranks) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
}

test('a killed rank ends the other with a clear error within seconds (no launcher)', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const ranks = [0, 1].map((r) => startRank(r, port, { mode: 'loop', timeoutMs: 60_000 }));
  try {
    await within(Promise.all(ranks.map((r) => r.line(/^ready$/))), 30_000, 'joining');
    ranks[1]!.child.kill('SIGKILL');
    const code = await within(ranks[0]!.exited, 15_000, "rank 0's exit after rank 1 was killed");
    assert.equal(code, 1, ranks[0]!.lines.join('\n'));
    const failed = ranks[0]!.lines.find((l) => l.startsWith('FAILED'))!;
    assert.match(failed, /allReduce\(\[3\] Float\) on gloo rank 0 of 2 failed: .*Another rank has probably died/);
  } finally {
    killAll(ranks);
  }
});

test(
  'a frozen rank ends the collective at the timeout, with the event loop turning meanwhile',
  { timeout: 60_000 },
  async () => {
    const port = await freePort();
    const ranks = [0, 1].map((r) => startRank(r, port, { mode: 'hang', timeoutMs: 1500 }));
    try {
      await within(Promise.all(ranks.map((r) => r.line(/^ready$/))), 30_000, 'joining');
      ranks[1]!.child.kill('SIGSTOP'); // alive with its sockets open, but silent: only the deadline can end the wait
      const code = await within(ranks[0]!.exited, 30_000, "rank 0's exit");
      assert.equal(code, 1, ranks[0]!.lines.join('\n'));
      const failed = ranks[0]!.lines.find((l) => l.startsWith('FAILED'))!;
      const [, ms, ticks] = /^FAILED (\d+) (\d+) /.exec(failed)!;
      assert.ok(Number(ms) >= 1000 && Number(ms) < 15_000, `failed after ${ms} ms with a 1500 ms timeout`);
      assert.ok(Number(ticks) > 20, `only ${ticks} timer ticks while waiting: the event loop was blocked`);
      assert.match(failed, /allReduce\(\[3\] Float\) on gloo rank 0 of 2 failed: .*timed out.*\(timeout 1500 ms\)/i);
    } finally {
      killAll(ranks);
    }
  },
);

test(
  'launch(): when one rank exits non-zero, the others are stopped and the result names the rank',
  { timeout: 60_000 },
  async () => {
    const r = await runRanks('fail-worker', 2, { mode: 'exit3', timeoutMs: 60_000 }, { deadlineMs: 45_000 });
    assert.equal(r.code, 1, dump(r));
    assert.equal(r.failedRank, 1, dump(r));
    assert.match(r.message, /^rank 1 of 2 exited with code 3; stopped the other 1 rank$/);
    assert.ok(r.ms < 40_000, `took ${r.ms} ms`);
  },
);

test(
  'a rank whose peers never join gives up after the timeout with a message naming the rendezvous',
  { timeout: 30_000 },
  async () => {
    const port = await freePort();
    const t0 = Date.now();
    await assert.rejects(
      initProcessGroup({ rank: 0, worldSize: 2, masterAddr: '127.0.0.1', masterPort: port, timeoutMs: 1000 }),
      (e: unknown) =>
        e instanceof EarmarkError &&
        e.code === 'EARMARK_DISTRIBUTED' &&
        /rank 0 of 2 could not join the job: .* failed: /.test(e.message) &&
        /all WORLD_SIZE ranks start within the timeout/.test(e.message),
    );
    assert.ok(Date.now() - t0 < 15_000);
  },
);

test("torchrun's variables: defaults for one process, and bad values named with the fix", () => {
  assert.deepEqual(readTorchrunEnv({}), {
    masterAddr: '127.0.0.1',
    masterPort: 29500,
    rank: 0,
    worldSize: 1,
    localRank: 0,
    localWorldSize: 1,
  });
  assert.deepEqual(
    readTorchrunEnv({
      MASTER_ADDR: 'node7',
      MASTER_PORT: '1234',
      RANK: '5',
      WORLD_SIZE: '8',
      LOCAL_RANK: '1',
      LOCAL_WORLD_SIZE: '4',
    }),
    { masterAddr: 'node7', masterPort: 1234, rank: 5, worldSize: 8, localRank: 1, localWorldSize: 4 },
  );
  const bad = (env: NodeJS.ProcessEnv, re: RegExp): void =>
    assert.throws(
      () => readTorchrunEnv(env),
      (e: unknown) => e instanceof EarmarkError && re.test(e.message),
    );
  bad({ WORLD_SIZE: 'two', MASTER_PORT: '1' }, /WORLD_SIZE='two' must be an integer >= 1/);
  bad({ WORLD_SIZE: '2', RANK: '2', MASTER_PORT: '1' }, /RANK=2 is not below WORLD_SIZE=2/);
  bad({ WORLD_SIZE: '2', RANK: '0' }, /MASTER_PORT is not set/);
  bad({ WORLD_SIZE: '2', MASTER_PORT: '70000' }, /MASTER_PORT=70000 is not a TCP port/);
});
