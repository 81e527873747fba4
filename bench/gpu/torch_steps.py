#!/usr/bin/env python3
"""PyTorch's side of bench/gpu/run.sh: the training step time of the models Netloom measured there, as
`netloom export --format pytorch` writes them (the same layers and initial weights), on CUDA when
there is a GPU and on the CPU.

Usage: torch_steps.py FOLDER MODEL=BATCHxDIMS... [--classes MODEL=K ...]
  FOLDER holds MODEL.py and MODEL.safetensors for each MODEL; BATCHxDIMS is the batch and the input's
  other dimensions, e.g. cnn=64x1x28x28 (float images, K classes, one label per image) or
  gpt-mini=32x64 (int64 token ids below K, one target per token).

A step is forward, cross-entropy, backward and Adam (lr 1e-3). A step time is the best of five rounds
(after three warm-up steps) of each round's mean, CUDA's queue drained at each round's end: the
statistic of Netloom's figure, the best epoch's mean step. Prints a line per model and device, then one
JSON line: {"torch": version, "cuda": GPU name or null, "threads": CPU threads, "ms": {model: {device: ms}}}.
"""
import argparse
import contextlib
import importlib.util
import json
import math
import os
import time

import torch
import torch.nn.functional as F


def load(folder, name):
    spec = importlib.util.spec_from_file_location(name.replace('-', '_'), os.path.join(folder, f'{name}.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.load_weights(module.Model(), os.path.join(folder, f'{name}.safetensors'))


def batch(dims, classes, device):
    """Random inputs and targets: images with a label each, or token ids with a target each. Drawn on the
    CPU (the generator's device, whatever the default device is), then moved."""
    generator = torch.Generator().manual_seed(0)
    if len(dims) == 2:
        x, y = torch.randint(0, classes, dims, generator=generator, device='cpu'), torch.randint(0, classes, dims, generator=generator, device='cpu')
    else:
        x, y = torch.rand(dims, generator=generator, device='cpu'), torch.randint(0, classes, dims[:1], generator=generator, device='cpu')
    return x.to(device), y.to(device)


def step_ms(model, x, y, device):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step():
        optimizer.zero_grad()
        scores = model(x)
        F.cross_entropy(scores.reshape(-1, scores.shape[-1]), y.reshape(-1)).backward()
        optimizer.step()

    def timed(steps):
        began = time.perf_counter()
        for _ in range(steps):
            step()
        if device == 'cuda':
            torch.cuda.synchronize()
        return (time.perf_counter() - began) / steps

    timed(3)
    steps = max(5, min(200, math.ceil(0.2 / timed(1))))  # rounds of about 0.2 s
    return 1000 * min(timed(steps) for _ in range(5))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('folder')
    parser.add_argument('models', nargs='+', metavar='MODEL=BATCHxDIMS')
    parser.add_argument('--classes', action='append', default=[], metavar='MODEL=K')
    args = parser.parse_args()
    classes = {k: int(v) for k, v in (c.split('=') for c in args.classes)}
    devices = (['cuda'] if torch.cuda.is_available() else []) + ['cpu']
    if not torch.cuda.is_available():
        print('PyTorch sees no CUDA device: CPU only')
    ms = {}
    for spec in args.models:
        name, shape = spec.split('=')
        dims = [int(d) for d in shape.split('x')]
        for device in devices:
            # The exported forward makes its masks with torch.zeros/arange: on the model's device under torch ≥ 2.0.
            on_device = torch.device(device) if hasattr(torch, 'set_default_device') else contextlib.nullcontext()
            with on_device:
                model = load(args.folder, name).to(device).train()
                x, y = batch(dims, classes.get(name, 10), device)
                ms.setdefault(name, {})[device] = step_ms(model, x, y, device)
            print(f'{name} (batch {shape}) on {device}: {ms[name][device]:.2f} ms per Adam step', flush=True)
    print(json.dumps({'torch': torch.__version__, 'cuda': torch.cuda.get_device_name() if torch.cuda.is_available() else None, 'threads': torch.get_num_threads(), 'ms': ms}))


if __name__ == '__main__':
    main()
