#!/usr/bin/env python3
"""PyTorch's side of `npm run check:torchvision` (scripts/check-torchvision.ts), on Debian's python3-torch 1.13
and python3-torchvision 0.14.

  torchvision_reference.py list
      Prints one JSON line: every classification model of torchvision.models, with its parameter count.
  torchvision_reference.py export NAME DIR
      Builds the model (seed 0), exports it (opset 17, batch "N") in both styles: DIR/preserve/preserve.onnx
      (training=PRESERVE, do_constant_folding=False: BatchNorm kept) and DIR/eval/eval.onnx (torch's default
      export: constant folding, BatchNorm folded into the convolution before it). Writes the batch of 2
      (DIR/x.npy) and its classes (DIR/target.npy). Prints one JSON line: the two counts (see below) and
      the input shape.
  torchvision_reference.py compare NAME DIR STYLE
      STYLE preserve or eval. Reads Netloom's parameters before and after its step of that file
      (DIR/netloom-STYLE/<i>.npy, listed in DIR/netloom-STYLE/keys.json), pairs each with the parameter of
      the model the file computes (the model, or for eval its folded form, fused_model) of the same initial
      values (in torch's layout, transposed or reshaped; for eval, the closest within 1e-5, as torch's
      exporter and torch.fx fold with other roundings), takes torch's SGD step (train(), cross-entropy, lr
      LR) from Netloom's initial values in float32, and prints one JSON line: the largest error of the
      parameters after the step, relative to each tensor's largest value, and of the update itself,
      relative to the model's largest update, against float32 torch; where the parameters are over 1e-4
      from float32 torch's, also against float64 torch's step and torch's own float32/float64 gap.

What PyTorch counts for each file: for preserve.onnx, sum(p.numel() for p in model.parameters()); for
eval.onnx, the same count for the model the folded file computes (fused_model): torch.fx's conv/BatchNorm
fusion (torch.fx.experimental.optimization.fuse; where torch.fx cannot trace the model, the conv→BatchNorm
pairs found by running it): each fused convolution gains a bias, each BatchNorm it absorbed loses its
weight and bias; and relative-position bias tables gathered as folding gathers them (gather_tables).

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
import types

import numpy as np
import torch
import torchvision
from torchvision.ops import StochasticDepth

BATCH = 2
LR = 0.01
TOLERANCE = 1e-4  # check-torchvision.ts's: a step this close to float32 torch's needs no float64 step
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


def fused_model(model, x):
    """
    The model the folded file (torch's default export) computes, with its parameters as that file holds
    them: each BatchNorm that reads a convolution's output folded into it (torch.fx's fuse; where torch.fx
    cannot trace the model, shufflenet's channel shuffle, the conv→BatchNorm pairs found by running it),
    and each relative-position bias table gathered into the bias the attention adds (gather_tables).
    """
    model.eval()
    gather_tables(model)
    try:
        from torch.fx.experimental.optimization import fuse
        return fuse(model)
    except Exception:  # torch.fx cannot trace it: fold the pairs found by running it
        pass
    from torch.nn.utils.fusion import fuse_conv_bn_eval
    names = {m: n for n, m in model.named_modules()}
    for conv, bn in conv_bn_pairs(model, x):
        for module, replacement in ((conv, fuse_conv_bn_eval(conv, bn)), (bn, torch.nn.Identity())):
            parent, _, child = names[module].rpartition('.')
            setattr(model.get_submodule(parent) if parent else model, child, replacement)
    return model


def gather_tables(model):
    """
    Constant folding gathers each relative-position bias table (Swin's, MaxViT's: (2w−1)²×heads) by its
    constant index into the bias the attention adds (heads×w²×w²): the folded file holds that instead, and
    so does the model here (a parameter of that bias in place of the table).
    """
    for m in model.modules():
        table, index = getattr(m, 'relative_position_bias_table', None), getattr(m, 'relative_position_index', None)
        if not isinstance(table, torch.nn.Parameter) or index is None:
            continue
        method = 'get_relative_position_bias' if hasattr(m, 'get_relative_position_bias') else 'get_relative_positional_bias'
        with torch.no_grad():
            m.gathered_bias = torch.nn.Parameter(getattr(m, method)().detach().clone())
        del m.relative_position_bias_table
        setattr(m, method, types.MethodType(lambda self: self.gathered_bias, m))  # deep copies (fuse) rebind it


def conv_bn_pairs(model, x):
    """The (convolution, BatchNorm) pairs where the BatchNorm reads the convolution's output and nothing else does."""
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
    return [(conv, bn) for conv, bn, out in folded if readers[id(out)] == 1]


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(model, x, target, copy=True):
    """The parameters after one SGD step: copies, or (copy=False, the model's last step) the model's own."""
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    opt.zero_grad(set_to_none=True)
    torch.nn.functional.cross_entropy(model(x), target).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)  # the gradients are done with: 2.5 GB of them for vit_h_14
    return {n: p.detach().numpy().copy() if copy else p.detach().numpy() for n, p in model.named_parameters()}


def export(name, out):
    started = time.time()
    os.makedirs(out, exist_ok=True)
    model = build(name).eval()
    size = input_size(name)
    x = torch.rand(BATCH, 3, size, size, generator=torch.Generator().manual_seed(int(os.environ.get('CHECK_TORCHVISION_SEED', 2)))) * 2 - 1
    target = torch.tensor([3, 7])
    common = dict(opset_version=17, input_names=['x'], output_names=['y'], dynamic_axes={'x': {0: 'N'}, 'y': {0: 'N'}})
    try:
        # Each in a folder of its own: past 2 GB, torch writes each weight to a file of its own beside the model.
        for style in ('preserve', 'eval'):
            os.makedirs(os.path.join(out, style))
        torch.onnx.export(model, x, os.path.join(out, 'preserve', 'preserve.onnx'), training=torch.onnx.TrainingMode.PRESERVE, do_constant_folding=False, **common)
        torch.onnx.export(model, x, os.path.join(out, 'eval', 'eval.onnx'), **common)
    except Exception as e:  # torch's exporter cannot write this model: there is no file to check (exit status 3)
        print(f'{type(e).__name__}: {str(e).splitlines()[0]}', file=sys.stderr)
        sys.exit(3)
    np.save(os.path.join(out, 'x.npy'), x.numpy())
    np.save(os.path.join(out, 'target.npy'), target.numpy())
    params = sum(p.numel() for p in model.parameters())
    del model
    fused = sum(p.numel() for p in fused_model(build(name), x).parameters())
    result = {'params': params, 'fused': fused, 'input': [3, size, size], 'seconds': time.time() - started, 'rssMB': peak_rss_mb()}
    print(json.dumps(result))


LAYOUTS = (
    (lambda t, s: t.shape == s.shape, lambda t: t, lambda a, shape: a),
    (lambda t, s: t.ndim == 2 and t.T.shape == s.shape, lambda t: t.T, lambda a, shape: a.T),
    (lambda t, s: t.size == s.size, lambda t: t.reshape(-1), lambda a, shape: a.reshape(shape)),
)


def pair(netloom, torch_params, tolerance):
    """
    Each Netloom parameter's torch parameter: the one with its initial values, in torch's layout,
    transposed or reshaped; exactly, or (the folded file: torch's exporter folds BatchNorm with other
    roundings than torch.fx's fuse) the closest within `tolerance` of the tensor's largest value.
    Returns {key: (torch name, Netloom → torch layout)}.
    """
    def difference(t, s, view):
        a, b = view(t).reshape(-1), s.reshape(-1)
        if np.abs(a[:64] - b[:64]).max() > tolerance * max(float(np.abs(a[:64]).max()), 1e-12):
            return np.inf
        return float(np.abs(a - b).max()) / max(float(np.abs(a).max()), 1e-12)
    pairs, free = {}, dict(torch_params)
    for key, s in netloom.items():
        best = None
        for n, t in free.items():
            for fits, view, to_torch in LAYOUTS:
                if fits(t, s):
                    d = difference(t, s, view)
                    if d <= tolerance and (best is None or d < best[0]):
                        best = (d, n, lambda a, f=to_torch, shape=t.shape: f(a, shape))
                    if d == 0:
                        break
            if best and best[0] == 0:
                break
        if best:
            pairs[key] = best[1:]
            del free[best[1]]
    return pairs


def compare(name, out, style):
    """
    torch's SGD step of the model the file `style` computes (the model itself, or its folded form), from
    Netloom's initial values, against Netloom's step (DIR/netloom-STYLE). The float64 step is taken only
    where the float32 one is further than 1e-4 from Netloom's (the ill-conditioned models).
    """
    x = torch.from_numpy(np.load(os.path.join(out, 'x.npy')))
    target = torch.from_numpy(np.load(os.path.join(out, 'target.npy')))
    model = build(name)
    if style == 'eval':
        model = fused_model(model, x)
    dir = os.path.join(out, f'netloom-{style}')
    keys = json.load(open(os.path.join(dir, 'keys.json')))
    # Netloom's files are mapped, not read: vit_h_14's weights are 2.5 GB, held once by the model already.
    start = {key: np.load(os.path.join(dir, f'{i}.before.npy'), mmap_mode='r') for i, key in enumerate(keys)}
    params = dict(model.named_parameters())
    pairs = pair(start, {n: p.detach().numpy() for n, p in params.items()}, 0 if style == 'preserve' else 1e-5)
    unpaired = [key for key in keys if key not in pairs]
    if unpaired:
        raise SystemExit(f'{name}: Netloom parameter {unpaired[0]} {list(start[unpaired[0]].shape)} has no torch parameter with its initial values')
    # torch steps from Netloom's values (the folded file's differ from torch.fx's fuse in the last bits).
    before = {}
    with torch.no_grad():
        for key, (n, to_torch) in pairs.items():
            params[n].copy_(torch.from_numpy(to_torch(start[key]).copy()))
            before[n] = to_torch(start[key])
    after32 = step(model, x, target)
    largest_update = max(float(np.abs(after32[n] - before[n]).max()) for n in before)
    measures = {}
    worst, worst_update = None, -1.0
    for i, key in enumerate(keys):
        n, to_torch = pairs[key]
        got = to_torch(np.load(os.path.join(dir, f'{i}.after.npy')))
        scale = max(float(np.abs(after32[n]).max()), 1e-12)
        update = float(np.abs(got - after32[n]).max()) / largest_update
        measures[key] = {'param': float(np.abs(got - after32[n]).max()) / scale, 'update': update}
        if update > worst_update:
            worst, worst_update = f'{key} (torch {n})', update
    errors = {k: max(m[k] for m in measures.values()) for k in ('param', 'update')}
    errors.update({'param64': None, 'torchParam': None, 'torchUpdate': None})
    if errors['param'] > TOLERANCE:
        model.double()
        with torch.no_grad():
            for n, value in before.items():
                params[n].copy_(torch.from_numpy(value.copy()))
        after64 = step(model, x.double(), target, copy=False)
        errors.update({'param64': 0.0, 'torchParam': 0.0, 'torchUpdate': 0.0})
        for i, key in enumerate(keys):
            n, to_torch = pairs[key]
            got = to_torch(np.load(os.path.join(dir, f'{i}.after.npy')))
            want, want64 = after32[n], after64[n]
            scale = max(float(np.abs(want).max()), 1e-12)
            errors['param64'] = max(errors['param64'], float(np.abs(got - want64).max()) / scale)
            errors['torchParam'] = max(errors['torchParam'], float(np.abs(want - want64).max()) / scale)
            errors['torchUpdate'] = max(errors['torchUpdate'], float(np.abs(want - want64).max()) / largest_update)
    paired = {n for n, _ in pairs.values()}
    print(json.dumps({**errors, 'worst': worst, 'untrained': [n for n in params if n not in paired], 'rssMB': peak_rss_mb()}))


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
        compare(argv[1], argv[2], argv[3])
    else:
        raise SystemExit(f'unknown command {argv[0]}: list, export or compare')


if __name__ == '__main__':
    main(sys.argv[1:])
