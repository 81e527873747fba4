#!/usr/bin/env python3
"""Checks that Netloom's ONNX text parses back to the graph it was printed from (Debian's python3-onnx).

Usage: check_onnx_text.py MODEL.onnx MODEL.txt [MODEL.onnx MODEL.txt ...]
Each .txt is parsed with onnx.parser.parse_model and compared with the .onnx file: the same opsets, the
same nodes in order (op, domain, inputs, outputs, attributes), graph inputs and outputs with their types,
and initializers with their values. Value names are compared up to renaming (the text syntax allows only
identifiers), -inf/inf in the binary file compare equal to -/+3.4028235e+38, which the text writes for
them, and a scalar's shape [] equals no shape (ONNX 1.12's parser reads `float[]` as a tensor of unknown
shape). Prints one line per pair; exits 1 if any differ.
"""
import sys

import numpy as np
import onnx
import onnx.parser
from onnx import numpy_helper

FLOAT_MAX = np.float32(3.4028235e38)


class Renaming:
    """Value names in order of first appearance, so two graphs compare up to renaming."""

    def __init__(self):
        self.names = {}

    def __call__(self, name):
        if name == '':
            return ''
        return self.names.setdefault(name, len(self.names))


def finite(array):
    if array.dtype.kind == 'f':
        return np.clip(array.astype(np.float32), -FLOAT_MAX, FLOAT_MAX)
    return array


def value_type(v):
    t = v.type.tensor_type
    dims = [d.dim_value if d.HasField('dim_value') else (d.dim_param or '?') for d in t.shape.dim] if t.HasField('shape') else []
    return t.elem_type, dims


def attribute(a, rename):
    if a.type == onnx.AttributeProto.FLOAT:
        return float(np.float32(a.f))
    if a.type == onnx.AttributeProto.FLOATS:
        return [float(np.float32(f)) for f in a.floats]
    if a.type == onnx.AttributeProto.TENSOR:
        return (a.t.data_type, list(a.t.dims), finite(numpy_helper.to_array(a.t)).tolist())
    if a.type == onnx.AttributeProto.GRAPH:
        return graph(a.g, rename)
    return onnx.helper.get_attribute_value(a)


def graph(g, rename):
    inputs = [(rename(v.name),) + value_type(v) for v in g.input]
    initializers = [(rename(t.name), t.data_type, list(t.dims), finite(numpy_helper.to_array(t)).tolist()) for t in g.initializer]
    nodes = [(n.domain, n.op_type, [rename(i) for i in n.input], [rename(o) for o in n.output],
              sorted((a.name, a.type, attribute(a, rename)) for a in n.attribute)) for n in g.node]
    outputs = [(rename(v.name),) + value_type(v) for v in g.output]
    return {'inputs': inputs, 'initializers': initializers, 'nodes': nodes, 'outputs': outputs}


def canonical(model):
    opsets = sorted((o.domain, o.version) for o in model.opset_import)
    return {'ir_version': model.ir_version, 'opsets': opsets, 'graph': graph(model.graph, Renaming())}


def first_difference(a, b, path='model'):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in a:
            found = first_difference(a[key], b.get(key), f'{path}.{key}')
            if found:
                return found
        return None
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return f'{path}: {len(a)} entries in the file, {len(b)} in the text'
        for i, (x, y) in enumerate(zip(a, b)):
            found = first_difference(x, y, f'{path}[{i}]')
            if found:
                return found
        return None
    return None if a == b else f'{path}: {str(a)[:80]} in the file, {str(b)[:80]} in the text'


def main(files):
    failures = 0
    for binary, text in zip(files[::2], files[1::2]):
        with open(text) as f:
            source = f.read()
        try:
            parsed = onnx.parser.parse_model(source)
        except Exception as e:
            print(f'FAIL {text}: onnx.parser: {str(e).splitlines()[0]}')
            failures += 1
            continue
        difference = first_difference(canonical(onnx.load(binary)), canonical(parsed))
        nodes = len(parsed.graph.node)
        print(f'{"FAIL" if difference else "ok  "} {text}: {nodes} nodes' + (f': {difference}' if difference else ''))
        failures += bool(difference)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
