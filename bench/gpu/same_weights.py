#!/usr/bin/env python3
"""Whether two of Netloom's weights files hold the same parameters to 1e-4 relative, judged as
tests/integration/webgpu.test.ts judges WebGPU against the CPU: every element of ACTUAL within
1e-4 * max|expected| + 1e-4 * |expected| of EXPECTED's.

Usage: same_weights.py EXPECTED.safetensors ACTUAL.safetensors
Prints one line: "same to 1e-4" or "NOT the same to 1e-4", the largest difference relative to its tensor's
largest value, and that tensor. Exit status 0 when the same, 1 when not, 2 when a file cannot be read or
the two hold different tensors. Needs numpy.
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


def main(expected_path, actual_path):
    try:
        expected, actual = read_safetensors(expected_path), read_safetensors(actual_path)
    except (OSError, ValueError, KeyError) as e:
        print(f'same_weights: cannot read the weights: {e}')
        return 2
    if sorted(expected) != sorted(actual) or any(expected[k].shape != actual[k].shape for k in expected):
        print(f'same_weights: {expected_path} and {actual_path} hold different tensors')
        return 2
    worst, worst_name, same = 0.0, None, True
    for name, e in expected.items():
        a = actual[name]
        scale = float(np.abs(e).max()) if e.size else 0.0
        difference = np.abs(a - e)
        same = same and bool(np.all(difference <= 1e-4 * scale + 1e-4 * np.abs(e)))
        relative = float(difference.max()) / scale if scale > 0 else float(difference.max()) if e.size else 0.0
        if not np.isfinite(relative) or relative >= worst:
            worst, worst_name = relative, name
    print(f"{'same' if same else 'NOT the same'} to 1e-4: largest difference {worst:.1e} of the tensor's largest value ({worst_name}, {len(expected)} tensors)")
    return 0 if same else 1


if __name__ == '__main__':
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().split('\n\n')[1])
    sys.exit(main(sys.argv[1], sys.argv[2]))
