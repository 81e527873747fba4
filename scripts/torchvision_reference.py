#!/usr/bin/env python3
"""PyTorch's side of `npm run check:torchvision` (scripts/check-torchvision.ts), on Debian's python3-torch 1.13
and python3-torchvision 0.14.

  torchvision_reference.py list
      Prints one JSON line: every classification model of torchvision.models, with its parameter count.
  torchvision_reference.py export NAME DIR
      Builds the model (seed 0), exports it (opset 17, batch "N") in both styles: DIR/preserve.onnx
      (training=PRESERVE, do_constant_folding=False: BatchNorm kept) and DIR/eval.onnx (torch's default
      export: constant folding, BatchNorm folded into the convolution before it). Writes the batch of 2
      (DIR/x.npy) and its classes (DIR/target.npy), takes one SGD step in float32 and in float64 (train(),
      cross-entropy, lr LR) and keeps the parameters before and after it for `compare`. Prints one JSON
      line: the two counts (see below) and the input shape.
  torchvision_reference.py compare NAME DIR
      Reads Netloom's parameters before and after its step (DIR/netloom/<i>.npy, listed in
      DIR/netloom/keys.json), pairs each with torch's parameter of the same initial values (in torch's
      layout or transposed) and prints one JSON line: the largest error of the parameters after the step,
      relative to each tensor's largest value, and of the update itself, relative to the model's largest
      update, both against float32 torch, and torch's own float32/float64 gap on the same measures.

What PyTorch counts for each file: for preserve.onnx, sum(p.numel() for p in model.parameters()); for
eval.onnx, the same count for the model torch.fx's conv/BatchNorm fusion makes
(torch.fx.experimental.optimization.fuse; where torch.fx cannot trace the model, the conv→BatchNorm
pairs found by running it), which is the model the folded file computes: each fused convolution gains a
bias, each BatchNorm it absorbed loses its weight and bias; plus what folding makes of relative-position
bias tables (gathered_tables).

So that every parameter can be told apart by its values (and no BatchNorm starts at exactly 1 and 0),
every parameter initialised to a constant is moved by a little noise first; Dropout and stochastic depth
are set to p = 0 so that torch's step is deterministic; googlenet and inception_v3 are built without their
auxiliary classifiers (which only training uses and the ONNX export drops).
"""
import json
import os
import resource
import sys
import time

import numpy as np
import torch
import torchvision
from torchvision.ops import StochasticDepth

BATCH = 2
LR = 0.01
SIZES = {'inception_v3': 299}  # the smallest size each model takes, where 112 is too small
# ViTs and MaxViT take only 224; AlexNet's and VGG's adaptive pools (6×6, 7×7) export only where they divide the size.
for prefix in ('vit_', 'swin_', 'maxvit_', 'alexnet', 'vgg'):
    SIZES[prefix] = 224


def classification_models():
    """Every builder of torchvision.models' classification module (torchvision 0.14 registers them)."""
    try:
        from torchvision.models._api import list_models
        return sorted(list_models(module=torchvision.models))
    except ImportError:  # older registries: the public lower-case builders of the module itself
        import inspect
        return sorted(n for n, f in vars(torchvision.models).items() if inspect.isfunction(f) and n[0].islower() and not n.startswith('get_'))


def input_size(name):
    if os.environ.get('CHECK_TORCHVISION_SIZE'):  # --size: a larger input where BatchNorm's statistics over batch 2 are too few
        return int(os.environ['CHECK_TORCHVISION_SIZE'])
    return next((size for prefix, size in SIZES.items() if name.startswith(prefix)), 112)


def build(name):
    torch.manual_seed(0)
    kwargs = {'aux_logits': False, 'init_weights': True} if name in ('googlenet', 'inception_v3') else {}
    model = getattr(torchvision.models, name)(**kwargs)
    gen = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            if p.numel() > 1 and torch.all(p == p.flatten()[0]) or p.numel() == 1:
                c = float(p.flatten()[0])
                p.add_(torch.randn(p.shape, generator=gen) * (0.1 * abs(c) if c != 0 else 0.01))
    for m in model.modules():
        if isinstance(m, (torch.nn.Dropout, StochasticDepth)):
            m.p = 0.0
    return model


def fused_count(model, x):
    """The parameters of the model with each BatchNorm that reads a convolution's output folded into it."""
    return conv_bn_fused_count(model, x) + gathered_tables(model)


def gathered_tables(model):
    """
    Constant folding also gathers each relative-position bias table (Swin's, MaxViT's: (2w−1)²×heads) by
    its constant index into the w²×w²×heads bias the attention adds: the folded file holds that instead.
    """
    extra = 0
    for m in model.modules():
        table, index = getattr(m, 'relative_position_bias_table', None), getattr(m, 'relative_position_index', None)
        if isinstance(table, torch.nn.Parameter) and index is not None:
            extra += index.numel() * table.shape[-1] - table.numel()
    return extra


def conv_bn_fused_count(model, x):
    model.eval()
    try:
        from torch.fx.experimental.optimization import fuse
        return sum(p.numel() for p in fuse(model).parameters())
    except Exception:  # torch.fx cannot trace it (shufflenet's channel shuffle): find the pairs by running it
        pass
    made_by = {}
    folded = []
    # Each output is kept (not only its id, which Python reuses once a tensor is freed). The export folds a
    # BatchNorm only into a convolution whose output nothing else reads (MaxViT's stem also feeds a shortcut).
    readers = {}
    hooks = [m.register_forward_hook(lambda m, i, o: made_by.__setitem__(id(o), (m, o))) for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    hooks += [m.register_forward_pre_hook(lambda m, i: folded.append((made_by[id(i[0])][0], m, i[0])) if made_by.get(id(i[0]), (None, None))[1] is i[0] else None)
              for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    def read(module, inputs):
        for t in inputs:
            if made_by.get(id(t), (None, None))[1] is t:
                readers[id(t)] = readers.get(id(t), 0) + 1
    hooks += [m.register_forward_pre_hook(read) for m in model.modules() if not list(m.children())]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    total = sum(p.numel() for p in model.parameters())
    for conv, bn, _ in (f for f in folded if readers[id(f[2])] == 1):
        total -= bn.weight.numel() + bn.bias.numel() - (0 if conv.bias is not None else conv.out_channels)
    return total


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(model, x, target):
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    opt.zero_grad()
    torch.nn.functional.cross_entropy(model(x), target).backward()
    opt.step()
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def export(name, out):
    started = time.time()
    os.makedirs(out, exist_ok=True)
    model = build(name).eval()
    size = input_size(name)
    x = torch.rand(BATCH, 3, size, size, generator=torch.Generator().manual_seed(int(os.environ.get('CHECK_TORCHVISION_SEED', 2)))) * 2 - 1
    target = torch.tensor([3, 7])
    common = dict(opset_version=17, input_names=['x'], output_names=['y'], dynamic_axes={'x': {0: 'N'}, 'y': {0: 'N'}})
    try:
        torch.onnx.export(model, x, os.path.join(out, 'preserve.onnx'), training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, **common)
        torch.onnx.export(model, x, os.path.join(out, 'eval.onnx'), **common)
    except Exception as e:  # torch's exporter cannot write this model: there is no file to check (exit status 3)
        print(f'{type(e).__name__}: {str(e).splitlines()[0]}', file=sys.stderr)
        sys.exit(3)
    np.save(os.path.join(out, 'x.npy'), x.numpy())
    np.save(os.path.join(out, 'target.npy'), target.numpy())
    params = sum(p.numel() for p in model.parameters())
    fused = fused_count(build(name), x)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    after32 = step(model, x, target)
    model64 = build(name).double()
    after64 = step(model64, x.double(), target)
    torch.save({'before': before, 'after32': after32, 'after64': after64}, os.path.join(out, 'torch-step.pt'))
    result = {'params': params, 'fused': fused, 'input': [3, size, size], 'seconds': time.time() - started, 'rssMB': peak_rss_mb()}
    print(json.dumps(result))


def compare(name, out):
    state = torch.load(os.path.join(out, 'torch-step.pt'))
    before = {n: t.numpy() for n, t in state['before'].items()}
    by_values = {}
    for n, t in before.items():
        flat = np.sort(t.ravel())
        by_values.setdefault((t.size, float(flat[0]), float(flat[-1]), float(flat[t.size // 2])), []).append(n)
    keys = json.load(open(os.path.join(out, 'netloom', 'keys.json')))
    errors = {'param': 0.0, 'update': 0.0, 'torchParam': 0.0, 'torchUpdate': 0.0, 'param64': 0.0}
    largest_update = max(float(np.abs(state['after32'][n].numpy() - before[n]).max()) for n in before)
    worst = None
    matched = set()
    for i, key in enumerate(keys):
        start = np.load(os.path.join(out, 'netloom', f'{i}.before.npy'))
        end = np.load(os.path.join(out, 'netloom', f'{i}.after.npy'))
        flat = np.sort(start.ravel())
        candidates = by_values.get((start.size, float(flat[0]), float(flat[-1]), float(flat[start.size // 2])), [])
        layout = None
        for n in candidates:
            t = before[n]
            if t.shape == start.shape and np.array_equal(t, start):
                layout = (n, lambda a: a)
            elif t.ndim == 2 and t.T.shape == start.shape and np.array_equal(t.T, start):
                layout = (n, lambda a: a.T)
            elif np.array_equal(t.ravel(), start.ravel()):
                layout = (n, lambda a: a.reshape(t.shape))
            if layout:
                break
        if not layout:
            raise SystemExit(f'{name}: Netloom parameter {key} {list(start.shape)} has no torch parameter with its initial values')
        n, to_torch = layout
        matched.add(n)
        got = to_torch(end)
        want, want64, start_t = state['after32'][n].numpy(), state['after64'][n].numpy(), before[n]
        scale = max(float(np.abs(want).max()), 1e-12)
        measures = {
            'param': float(np.abs(got - want).max()) / scale,
            'update': float(np.abs((got - start_t) - (want - start_t)).max()) / largest_update,
            'torchParam': float(np.abs(want - want64).max()) / scale,
            'param64': float(np.abs(got - want64).max()) / scale,
            'torchUpdate': float(np.abs((want - start_t) - (want64 - start_t)).max()) / largest_update,
        }
        if worst is None or measures['update'] > errors['update']:
            worst = f'{key} (torch {n})'
        for k, v in measures.items():
            errors[k] = max(errors[k], v)
    missing = [n for n in before if n not in matched]
    print(json.dumps({**errors, 'worst': worst, 'untrained': missing, 'rssMB': peak_rss_mb()}))


def main(argv):
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    if argv[0] == 'list':
        counts = {}
        for init in [n for n in dir(torch.nn.init) if n.endswith('_') and not n.startswith('_')]:
            setattr(torch.nn.init, init, lambda t, *a, **k: t)  # only counting: initialising 3 G parameters takes minutes
        for name in classification_models():
            kwargs = {'aux_logits': False, 'init_weights': False} if name in ('googlenet', 'inception_v3') else {}
            counts[name] = sum(p.numel() for p in getattr(torchvision.models, name)(**kwargs).parameters())
        print(json.dumps(counts))
    elif argv[0] == 'export':
        export(argv[1], argv[2])
    elif argv[0] == 'compare':
        compare(argv[1], argv[2])
    else:
        raise SystemExit(f'unknown command {argv[0]}: list, export or compare')


if __name__ == '__main__':
    main(sys.argv[1:])
