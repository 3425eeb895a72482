"""Golden safetensors file, written byte for byte as huggingface/safetensors would write it.

The `safetensors` package cannot be installed on the reference machine (no PyPI, not in Debian), so
this re-implements its writer from the format rules in safetensors/src/tensor.rs (`prepare`,
`Metadata`'s Serialize impl, `Dtype`'s declaration order), without any of its code:
  * header = compact JSON (serde_json: no spaces, non-ASCII kept as UTF-8), `__metadata__` first,
    then the tensors in layout order; padded with b' ' to a multiple of 8; preceded by its length
    as a little-endian u64;
  * layout order = dtype rank descending (Dtype enum order: BOOL < U8 < I32 < F32 < F64 < I64),
    then name ascending by UTF-8 bytes (Rust's String Ord);
  * data = each tensor's C-contiguous little-endian bytes back to back, data_offsets relative to
    the end of the header.
Metadata has one key because Rust keeps it in a HashMap (random order for several keys).

Run: /usr/bin/python3 scripts/goldens/safetensors.py   (writes test/fixtures/safetensors/)
     /usr/bin/python3 scripts/goldens/safetensors.py --check FILE...
        (reads each file as the reference loader would and checks that re-serialising it gives the
        same bytes: a file earmark wrote is exactly what Python's safetensors would write)
"""
import json
import os
import struct
import sys

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'fixtures', 'safetensors')

RANK = {'BOOL': 0, 'U8': 4, 'I32': 15, 'F32': 17, 'F64': 19, 'I64': 20}
PACK = {'BOOL': '?', 'U8': 'B', 'I32': 'i', 'F32': 'f', 'F64': 'd', 'I64': 'q'}

# name -> (dtype, shape, flat values); names chosen so name order alone would give another layout
TENSORS = {
    'weight': ('F32', [2, 3], [0.5, -1.25, 3.0, 0.0010000000474974513, -0.0, 7.5]),
    'bias': ('F32', [3], [1.0, -2.0, 0.25]),
    'empty': ('F32', [0], []),
    'step': ('I64', [], [1234567890123]),
    'mean': ('F64', [2], [1 / 3, -2.5]),
    'counts': ('I32', [2, 2], [1, -2, 3, 2147483647]),
    'pixels': ('U8', [4], [0, 1, 128, 255]),
    'aardvark': ('U8', [1], [7]),
    'mask': ('BOOL', [3], [True, False, True]),
    # U+FF57 sorts before U+1F3A7 in UTF-8 bytes but after it in UTF-16 code units
    '\uff57': ('U8', [1], [1]),
    '\U0001f3a7': ('U8', [1], [2]),
}
METADATA = {'format': 'pt'}


def serialize(tensors, metadata):
    order = sorted(tensors.items(), key=lambda kv: (-RANK[kv[1][0]], kv[0].encode('utf-8')))
    header, blobs, offset = {}, [], 0
    if metadata is not None:
        header['__metadata__'] = metadata
    for name, (dtype, shape, values) in order:
        blob = struct.pack('<%d%s' % (len(values), PACK[dtype]), *values)
        header[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(',', ':'), ensure_ascii=False).encode('utf-8')
    text += b' ' * (-len(text) % 8)
    return struct.pack('<Q', len(text)) + text + b''.join(blobs)


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'small.safetensors'), 'wb') as f:
        f.write(serialize(TENSORS, METADATA))
    spec = {name: {'dtype': d, 'shape': s, 'values': [int(v) if d == 'BOOL' else v for v in vals]}
            for name, (d, s, vals) in TENSORS.items()}
    with open(os.path.join(OUT, 'small.json'), 'w') as f:
        json.dump({'metadata': METADATA, 'tensors': spec}, f, indent=1, ensure_ascii=False)
        f.write('\n')
    # the empty dict with no metadata: the smallest valid file
    with open(os.path.join(OUT, 'empty.safetensors'), 'wb') as f:
        f.write(serialize({}, None))


def check(path):
    """Parse `path` by the format rules, then re-serialise it; True when the bytes are identical."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n].decode('utf-8'))
    metadata = header.pop('__metadata__', None)
    body = data[8 + n:]
    tensors = {}
    for name, info in header.items():
        begin, end = info['data_offsets']
        count = (end - begin) // struct.calcsize(PACK[info['dtype']])
        values = list(struct.unpack('<%d%s' % (count, PACK[info['dtype']]), body[begin:end]))
        tensors[name] = (info['dtype'], info['shape'], values)
    if metadata is not None and len(metadata) > 1:
        # Rust's HashMap order is arbitrary: accept any order for several metadata keys
        metadata = dict(json.loads(data[8:8 + n].decode('utf-8'))['__metadata__'])
    return serialize(tensors, metadata) == data


if __name__ == '__main__':
    if sys.argv[1:2] == ['--check']:
        bad = [p for p in sys.argv[2:] if not check(p)]
        print('identical to the reference layout' if not bad else 'DIFFERENT: ' + ', '.join(bad))
        sys.exit(1 if bad else 0)
    main()
