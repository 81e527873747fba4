#!/usr/bin/env python3
"""Whether two of Netloom's weights files hold the same parameters to 1e-4 relative, judged as
tests/integration/webgpu.test.ts judges WebGPU against the CPU: every element of ACTUAL within
1e-4 * max|expected| + 1e-4 * |expected| of EXPECTED's.

Usage: same_weights.py EXPECTED.safetensors ACTUAL.safetensors [INITIAL.safetensors]
Prints one line: "same to 1e-4" or "NOT the same to 1e-4", the largest difference relative to its tensor's
largest value, and that tensor. With the weights both started from, it adds how far the updates (after −
initial) differ, relative to each tensor's largest update: a few steps move the weights little, so this
is the finer comparison. Exit status 0 when the same, 1 when not, 2 when a file cannot be read or the
files hold different tensors. Needs numpy.
"""
import json
import sys

import numpy as np

DTYPES = {'F32': '<f4', 'F64': '<f8', 'I64': '<i8', 'I32': '<i4'}


def read_safetensors(path):
    """The tensors of a .safetensors file: an 8-byte header length, a JSON header, the raw data."""
    with open(path, 'rb') as f:
        data = f.read()
    size = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + size])
    header.pop('__metadata__', None)
    tensors = {}
    for name, t in header.items():
        start, end = t['data_offsets']
        dtype = np.dtype(DTYPES[t['dtype']])
        tensors[name] = np.frombuffer(data, dtype, (end - start) // dtype.itemsize, 8 + size + start).reshape(t['shape']).astype(np.float64)
    return tensors


def largest_relative(expected, actual):
    """The largest |actual − expected| relative to its tensor's largest |expected|, and that tensor."""
    worst, worst_name = 0.0, None
    for name, e in expected.items():
        difference = float(np.abs(actual[name] - e).max()) if e.size else 0.0
        scale = float(np.abs(e).max()) if e.size else 0.0
        relative = difference / scale if scale > 0 else difference
        if not np.isfinite(relative) or relative >= worst:
            worst, worst_name = relative, name
    return worst, worst_name


def main(paths):
    try:
        expected, actual, *initial = [read_safetensors(p) for p in paths]
    except (OSError, ValueError, KeyError) as e:
        print(f'same_weights: cannot read the weights: {e}')
        return 2
    for other in [actual, *initial]:
        if sorted(expected) != sorted(other) or any(expected[k].shape != other[k].shape for k in expected):
            print(f'same_weights: {", ".join(paths)} hold different tensors')
            return 2
    same = all(np.all(np.abs(actual[k] - e) <= 1e-4 * (float(np.abs(e).max()) if e.size else 0.0) + 1e-4 * np.abs(e)) for k, e in expected.items())
    worst, name = largest_relative(expected, actual)
    line = f"{'same' if same else 'NOT the same'} to 1e-4: largest difference {worst:.1e} of the tensor's largest value ({name}, {len(expected)} tensors)"
    if initial:
        start = initial[0]
        update, update_name = largest_relative({k: v - start[k] for k, v in expected.items()}, {k: v - start[k] for k, v in actual.items()})
        line += f"; the updates differ by {update:.1e} of the largest update ({update_name})"
    print(line)
    return 0 if same else 1


if __name__ == '__main__':
    if len(sys.argv) not in (3, 4):
        print(__doc__.strip().split('\n\n')[1].split('\n')[0], file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1:]))
