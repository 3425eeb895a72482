// One rank of a job that goes wrong, for test/distributed-failure.test.ts. argv[2]: JSON { mode, timeoutMs }.
// Every rank joins and all-reduces once, prints "ready", then:
//   'loop':  all-reduce every 20 ms until something fails (the test kills a rank from outside);
//   'hang':  as 'loop' (the test freezes rank 1 with SIGSTOP: alive, sockets open, silent);
//   'exit3': rank 1 exits with code 3, rank 0 keeps all-reducing.
// A failed collective prints "FAILED <ms> <ticks> <message>" and exits 1.
import { initProcessGroup } from '../../src/distributed/index.js';
import { tensor } from '../../src/tensor/index.js';

const cfg = JSON.parse(process.argv[2]!) as { mode: 'loop' | 'hang' | 'exit3'; timeoutMs: number };
const pg = await initProcessGroup({ timeoutMs: cfg.timeoutMs, initTimeoutMs: 60_000 });
const t = tensor([1, 2, 3]);
await pg.allReduce(t);
console.log('ready');
if (pg.rank === 1 && cfg.mode === 'exit3') process.exit(3);
let ticks = 0;
setInterval(() => ticks++, 10); // the event loop keeps turning while a collective waits
let t0 = Date.now();
try {
  for (;;) {
    t0 = Date.now();
    await pg.allReduce(t);
    await new Promise((r) => setTimeout(r, 20));
  }
} catch (e) {
  console.log(`FAILED ${Date.now() - t0} ${ticks} ${(e as Error).message}`);
  process.exit(1);
}
