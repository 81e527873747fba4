#!/usr/bin/env python3
"""Side-by-side reference for the convolutional training-step benchmark (bench/conv-step.bench.ts).

Usage: torch_step.py OUT_DIR BATCH SIZE. For each model, exports it (opset 17, batch N, BatchNorm kept, as
scripts/fixtures/export_torchvision.py does) to OUT_DIR/<name>.onnx if not there yet, then times one SGD
step (forward, cross-entropy, backward, update) in Debian's torch on this CPU, the best of five after
two warm-up steps, and the median CPU time of five steps on one thread (which a busy shared machine
disturbs far less). Prints one JSON line: {name: [seconds per step, CPU seconds on one thread]}.
"""
import json
import os
import statistics
import sys
import time

import torch
import torchvision

MODELS = {
    'mnasnet0_5': lambda: torchvision.models.mnasnet0_5(),
    'mobilenet_v2': lambda: torchvision.models.mobilenet_v2(),
    'efficientnet_b0': lambda: torchvision.models.efficientnet_b0(),
}


def main(out, batch, size):
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    times = {}
    for name, make in MODELS.items():
        model = make()
        path = os.path.join(out, f'{name}.onnx')
        if not os.path.exists(path):
            model.eval()
            torch.onnx.export(model, torch.rand(2, 3, size, size), path + '.part', opset_version=17, input_names=['x'],
                              output_names=['y'], dynamic_axes={'x': {0: 'N'}, 'y': {0: 'N'}},
                              training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False)
            os.replace(path + '.part', path)
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3)
        x = torch.rand(batch, 3, size, size)
        y = torch.randint(0, 1000, (batch,))
        def step():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()

        best = float('inf')
        for i in range(7):
            t = time.perf_counter()
            step()
            if i >= 2:
                best = min(best, time.perf_counter() - t)
        torch.set_num_threads(1)
        cpu = []
        for i in range(7):
            t = time.process_time()
            step()
            if i >= 2:
                cpu.append(time.process_time() - t)
        torch.set_num_threads(threads)
        times[name] = [best, statistics.median(cpu)]
    print(json.dumps(times))


if __name__ == '__main__':
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
