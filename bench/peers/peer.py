"""The PyTorch peer of `npm run bench` (bench/peer.ts starts it with /usr/bin/python3 when that imports torch).

It times the same work as earmark's bench rows in eager PyTorch, on the same libtorch where Debian's
python3-torch and libtorch-dev are installed, so that each row can print PyTorch's figure beside earmark's
from the same run. Protocol: one JSON request per line on stdin, one JSON reply per line on stdout.
  {"id": 1, "case": "engine.tiny_add", "args": {}, "iters": 20000, "warmup": 0, "threads": 2, "grad": false}
  → {"id": 1, "seconds": 1.1e-06}   (seconds per call; or {"id": 1, "error": "..."})
A case is a function of its args returning a step callable; it is built once per (case, args) and reused.
"""
import json
import os
import sys
import time

# as earmark's addon (src/binding/native.ts): OpenMP threads sleep between parallel regions
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.dont_write_bytecode = True  # no __pycache__ in the source tree

import torch  # noqa: E402

import audio  # noqa: E402
import engine  # noqa: E402
import training  # noqa: E402

CASES = {f'{m.__name__}.{name}': fn for m in (engine, audio, training) for name, fn in m.CASES.items()}


def serve(inp, out):
    steps = {}
    hello = {'torch': torch.__version__, 'threads': torch.get_num_threads(), 'cases': sorted(CASES)}
    out.write(json.dumps(hello) + '\n')
    out.flush()
    for line in inp:
        req = json.loads(line)
        reply = {'id': req.get('id')}
        try:
            name, args = req['case'], req.get('args', {})
            if name not in CASES:
                raise KeyError(f"no case {name!r}; known: {', '.join(sorted(CASES))}")
            threads = int(req.get('threads', torch.get_num_threads()))
            if threads != torch.get_num_threads():  # (set_num_threads also clears oneDNN's primitive cache)
                torch.set_num_threads(threads)
            key = json.dumps([name, args], sort_keys=True)
            if key not in steps:
                steps[key] = CASES[name](**args)
            step = steps[key]
            with torch.set_grad_enabled(bool(req.get('grad', True))):
                for _ in range(int(req.get('warmup', 0))):
                    step()
                iters = int(req.get('iters', 1))
                t0 = time.perf_counter()
                for _ in range(iters):
                    step()
                reply['seconds'] = (time.perf_counter() - t0) / max(iters, 1)
        except Exception as e:  # reported to the bench, which prints earmark's figure alone for this row
            reply['error'] = f'{type(e).__name__}: {e}'
        out.write(json.dumps(reply) + '\n')
        out.flush()


if __name__ == '__main__':
    serve(sys.stdin, sys.stdout)
