/**
 * The Python the PyTorch export puts into a generated model.py: small readable modules for the layers
 * with no torch.nn twin, the safetensors reader, and the helpers that give imported ONNX ops their exact
 * meaning. Each entry is written into the file only when the model uses it, after the ones it needs.
 */

export interface PythonSnippet {
  needs?: string[];
  code: string;
}

export const PYTHON_LIBRARY: Record<string, PythonSnippet> = {
  causal_mask: {
    code: `
def causal_mask(tq, tk, window=None):
    """0 where query i may attend to key j (j <= i, and i - j < window with a sliding window), -inf elsewhere."""
    i = torch.arange(tq).unsqueeze(1)
    j = torch.arange(tk).unsqueeze(0)
    allowed = j <= i
    if window is not None:
        allowed = allowed & (i - j < window)
    return torch.zeros(tq, tk).masked_fill(~allowed, float('-inf'))
`,
  },
  apply_rope: {
    code: `
def apply_rope(x, head_dim, base=10000.0):
    """RoPE: rotates each pair (x[2k], x[2k+1]) of every head by the angle t * base^(-2k/head_dim) at position t.
    x is N x heads x T x head_dim, or N x T x features with the heads side by side."""
    half = head_dim // 2
    position_axis = 2 if x.dim() == 4 else 1
    inverse = torch.tensor([base ** (-2 * k / head_dim) for k in range(half)])
    angles = torch.arange(x.shape[position_axis], dtype=torch.float32)[:, None] * inverse[None, :]
    cos, sin = angles.cos(), angles.sin()
    if x.dim() == 4:
        pairs = x.reshape(*x.shape[:3], half, 2)
    else:
        pairs = x.reshape(x.shape[0], x.shape[1], -1, half, 2)
        cos, sin = cos[:, None], sin[:, None]
    even, odd = pairs[..., 0], pairs[..., 1]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).reshape(x.shape)
`,
  },
  RotaryEmbedding: {
    needs: ['apply_rope'],
    code: `
class RotaryEmbedding(nn.Module):
    """Rotary position embedding (RoPE) as a layer of its own; no parameters."""

    def __init__(self, head_dim, base=10000.0):
        super().__init__()
        self.head_dim, self.base = head_dim, base

    def forward(self, x):
        return apply_rope(x, self.head_dim, self.base)
`,
  },
  Attention: {
    needs: ['apply_rope', 'causal_mask'],
    code: `
class Attention(nn.Module):
    """Multi-head attention, batch first, with fewer key/value heads than query heads (GQA; 1 is MQA),
    rotary positions on queries and keys, and a causal or sliding-window mask. With as many key/value
    heads as query heads its parameters are named as nn.MultiheadAttention's; with fewer, q/k/v/out_proj."""

    def __init__(self, embed_dim, num_heads, num_kv_heads=None, bias=True, kdim=None, vdim=None,
                 dropout=0.0, causal=False, sliding_window=None, rotary=False,
                 in_projection=True, out_projection=True, scaled=True):
        super().__init__()
        num_kv_heads = num_kv_heads or num_heads
        kdim, vdim = kdim or embed_dim, vdim or embed_dim
        self.num_heads, self.num_kv_heads, self.head_dim = num_heads, num_kv_heads, embed_dim // num_heads
        self.causal, self.sliding_window, self.rotary = causal, sliding_window, rotary
        # The course's attention by hand: deck 000 has no projections (q = k = v = x) and no scaling,
        # deck 001 has W_q, W_k, W_v and no output projection.
        self.in_projection, self.scaled = in_projection, scaled
        if in_projection and num_kv_heads != num_heads:
            kv_dim = self.head_dim * num_kv_heads
            self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
            self.k_proj = nn.Linear(kdim, kv_dim, bias=bias)
            self.v_proj = nn.Linear(vdim, kv_dim, bias=bias)
        elif in_projection:
            if kdim == embed_dim and vdim == embed_dim:
                self.in_proj_weight = nn.Parameter(torch.zeros(3 * embed_dim, embed_dim))
            else:
                self.q_proj_weight = nn.Parameter(torch.zeros(embed_dim, embed_dim))
                self.k_proj_weight = nn.Parameter(torch.zeros(embed_dim, kdim))
                self.v_proj_weight = nn.Parameter(torch.zeros(embed_dim, vdim))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * embed_dim)) if bias else None
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias) if out_projection else nn.Identity()
        self.dropout = nn.Dropout(dropout)

    def project(self, query, key, value):
        if not self.in_projection:
            return query, key, value
        if self.num_kv_heads != self.num_heads:
            return self.q_proj(query), self.k_proj(key), self.v_proj(value)
        if hasattr(self, 'in_proj_weight'):
            weights = self.in_proj_weight.chunk(3)
        else:
            weights = (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight)
        biases = self.in_proj_bias.chunk(3) if self.in_proj_bias is not None else (None, None, None)
        return tuple(F.linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))

    def forward(self, query, key=None, value=None):
        key = query if key is None else key
        value = key if value is None else value
        q, k, v = self.project(query, key, value)
        q = q.reshape(q.shape[0], q.shape[1], self.num_heads, self.head_dim).transpose(1, 2)
        k = k.reshape(k.shape[0], k.shape[1], self.num_kv_heads, self.head_dim).transpose(1, 2)
        v = v.reshape(v.shape[0], v.shape[1], self.num_kv_heads, self.head_dim).transpose(1, 2)
        if self.rotary:
            q, k = apply_rope(q, self.head_dim), apply_rope(k, self.head_dim)
        # Each key/value head serves num_heads / num_kv_heads query heads.
        k = k.repeat_interleave(self.num_heads // self.num_kv_heads, dim=1)
        v = v.repeat_interleave(self.num_heads // self.num_kv_heads, dim=1)
        scores = q @ k.transpose(-2, -1)
        if self.scaled:
            scores = scores / math.sqrt(self.head_dim)
        if self.causal or self.sliding_window is not None:
            scores = scores + causal_mask(q.shape[2], k.shape[2], self.sliding_window)
        context = self.dropout(scores.softmax(-1)) @ v
        return self.out_proj(context.transpose(1, 2).reshape(query.shape[0], query.shape[1], -1))
`,
  },
  MixtureOfExperts: {
    needs: ['FeedForward'],
    code: `
class MixtureOfExperts(nn.Module):
    """Mixtral's sparse feed-forward: a router keeps each token's top k of n SwiGLU experts and mixes their
    outputs with a softmax over the kept scores. Every expert runs on every token and the others get
    weight 0: the numbers of sparse dispatch, written plainly."""

    def __init__(self, d_model, hidden, num_experts=8, top_k=2):
        super().__init__()
        self.top_k = top_k
        self.gate = nn.Linear(d_model, num_experts, bias=False)
        self.experts = nn.ModuleList(FeedForward(d_model, hidden, activation='swiglu', bias=False) for _ in range(num_experts))

    def forward(self, x):
        scores = self.gate(x)
        # An expert is kept when fewer than k scores of the token are strictly larger than its own.
        kept = (scores.unsqueeze(-2) > scores.unsqueeze(-1)).sum(-1) < self.top_k
        gates = scores.masked_fill(~kept, float('-inf')).softmax(-1)
        return sum(gates[..., e:e + 1] * expert(x) for e, expert in enumerate(self.experts))
`,
  },
  FeedForward: {
    code: `
class FeedForward(nn.Module):
    """The Transformer's position-wise MLP: linear2(act(linear1(x))), or SwiGLU: w2(silu(w1(x)) * w3(x))."""

    def __init__(self, d_model, hidden, activation='relu', bias=True, dropout=0.0):
        super().__init__()
        self.activation = activation
        if activation == 'swiglu':
            self.w1 = nn.Linear(d_model, hidden, bias=bias)
            self.w3 = nn.Linear(d_model, hidden, bias=bias)
            self.w2 = nn.Linear(hidden, d_model, bias=bias)
        else:
            self.linear1 = nn.Linear(d_model, hidden, bias=bias)
            self.linear2 = nn.Linear(hidden, d_model, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        if self.activation == 'swiglu':
            return self.w2(self.dropout(F.silu(self.w1(x)) * self.w3(x)))
        act = {'relu': F.relu, 'gelu': F.gelu}[self.activation]
        return self.linear2(self.dropout(act(self.linear1(x))))
`,
  },
  RMSNorm: {
    code: `
class RMSNorm(nn.Module):
    """y = weight * x / sqrt(mean(x^2) + eps) over the trailing normalized_shape, without centring (Llama)."""

    def __init__(self, normalized_shape, eps=1e-6, elementwise_affine=True):
        super().__init__()
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.weight = nn.Parameter(torch.ones(self.normalized_shape)) if elementwise_affine else None

    def forward(self, x):
        dims = tuple(range(-len(self.normalized_shape), 0))
        x = x / torch.sqrt((x * x).mean(dims, keepdim=True) + self.eps)
        return x if self.weight is None else x * self.weight
`,
  },
  PositionalEncoding: {
    code: `
class PositionalEncoding(nn.Module):
    """Adds a position vector p[t] to each token: sinusoids p[t, 2k] = sin(t w_k), p[t, 2k+1] = cos(t w_k)
    with w_k = 10000^(-2k/d), or a learned max_len x d table."""

    def __init__(self, d_model, kind='sinusoidal', max_len=5000, dropout=0.0):
        super().__init__()
        self.d_model, self.kind = d_model, kind
        if kind == 'learned':
            self.weight = nn.Parameter(torch.zeros(max_len, d_model))
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        T = x.shape[1]
        if self.kind == 'learned':
            table = self.weight[:T]
        else:
            inverse = torch.tensor([10000.0 ** (-2 * k / self.d_model) for k in range(self.d_model // 2)])
            angles = torch.arange(T, dtype=torch.float32)[:, None] * inverse[None, :]
            table = torch.stack([angles.sin(), angles.cos()], dim=-1).reshape(T, self.d_model)
        return self.dropout(x + table)
`,
  },
  Maxout: {
    code: `
class Maxout(nn.Module):
    """The maximum over each group of pool_size consecutive features along dim (no parameters)."""

    def __init__(self, pool_size, dim=1):
        super().__init__()
        self.pool_size, self.dim = pool_size, dim

    def forward(self, x):
        dim = self.dim % x.dim()
        shape = x.shape[:dim] + (x.shape[dim] // self.pool_size, self.pool_size) + x.shape[dim + 1:]
        return x.reshape(shape).amax(dim + 1)
`,
  },
  OnnxTensors: {
    code: `
class OnnxTensors(nn.Module):
    """The constant tensors of an imported ONNX node: learned weights as parameters, settings as buffers."""

    def __init__(self, parameters=(), buffers=()):
        super().__init__()
        for name, shape in parameters:
            self.register_parameter(name, nn.Parameter(torch.zeros(shape)))
        for name, shape in buffers:
            self.register_buffer(name, torch.zeros(shape))
`,
  },
  as_ints: {
    code: `
def as_ints(t):
    """An ONNX shape-like input (a tensor or a list) as a list of Python ints."""
    return [int(v) for v in torch.as_tensor(t).flatten()]
`,
  },
  onnx_reshape: {
    needs: ['as_ints'],
    code: `
def onnx_reshape(x, shape):
    """ONNX Reshape: 0 copies the input's size on that axis, -1 is inferred."""
    return x.reshape([x.shape[i] if s == 0 else s for i, s in enumerate(as_ints(shape))])
`,
  },
  onnx_gather: {
    code: `
def onnx_gather(x, indices, axis):
    """ONNX Gather: take indices (any shape, negative from the end) along axis."""
    axis = axis % x.dim()
    indices = torch.as_tensor(indices).long()
    picked = x.index_select(axis, (indices % x.shape[axis]).flatten())
    return picked.reshape(x.shape[:axis] + indices.shape + x.shape[axis + 1:])
`,
  },
  onnx_unsqueeze: {
    needs: ['as_ints'],
    code: `
def onnx_unsqueeze(x, axes):
    """ONNX Unsqueeze: axes count in the output's rank."""
    rank = x.dim() + len(as_ints(axes))
    for axis in sorted(a % rank for a in as_ints(axes)):
        x = x.unsqueeze(axis)
    return x
`,
  },
  onnx_squeeze: {
    needs: ['as_ints'],
    code: `
def onnx_squeeze(x, axes=None):
    """ONNX Squeeze: the given axes, or every axis of size 1."""
    if axes is None:
        return x.squeeze()
    for axis in sorted((a % x.dim() for a in as_ints(axes)), reverse=True):
        x = x.squeeze(axis)
    return x
`,
  },
  onnx_slice: {
    needs: ['as_ints'],
    code: `
def onnx_slice(x, starts, ends, axes=None, steps=None):
    """ONNX Slice with positive steps: x[start:end:step] on each listed axis."""
    starts, ends = as_ints(starts), as_ints(ends)
    axes = as_ints(axes) if axes is not None else list(range(len(starts)))
    steps = as_ints(steps) if steps is not None else [1] * len(starts)
    index = [slice(None)] * x.dim()
    for start, end, axis, step in zip(starts, ends, axes, steps):
        if step < 1:
            raise NotImplementedError('ONNX Slice with a negative step')
        index[axis % x.dim()] = slice(start, end, step)
    return x[tuple(index)]
`,
  },
};

/** The file's reader, loader and command line: always written. */
export const PYTHON_RUNTIME = `
def read_safetensors(path):
    """The tensors of a .safetensors file as numpy arrays: an 8-byte header length, a JSON header, the raw data."""
    with open(path, 'rb') as f:
        data = f.read()
    size = int.from_bytes(data[:8], 'little')
    header = json.loads(data[8:8 + size])
    header.pop('__metadata__', None)
    dtypes = {'F32': '<f4', 'F64': '<f8', 'F16': '<f2', 'I64': '<i8', 'I32': '<i4'}
    tensors = {}
    for name, t in header.items():
        start, end = t['data_offsets']
        dtype = np.dtype(dtypes[t['dtype']])
        tensors[name] = np.frombuffer(data, dtype, (end - start) // dtype.itemsize, 8 + size + start).reshape(t['shape'])
    return tensors


def load_weights(model, path):
    """Loads Netloom's weights file (safetensors, named like a state_dict) into the model."""
    tensors = read_safetensors(path)
    state = {}
    for key in model.state_dict():
        name = WEIGHT_NAMES.get(key, key)
        if name in tensors:
            state[key] = torch.from_numpy(tensors[name].astype(np.float32))
        elif not key.endswith('num_batches_tracked'):
            raise KeyError(f'{path} has no tensor "{name}" (for {key})')
    model.load_state_dict(state, strict=False)
    return model


def main(argv):
    """python3 model.py weights.safetensors input.npy [name=file.npy ...] output.npy|folder"""
    if len(argv) < 4 or argv[1] in ('-h', '--help'):
        sys.exit(f'usage: python3 {argv[0]} weights.safetensors ' + ' '.join(f'{n}.npy' for n in INPUTS) + ' output.npy|folder')
    weights, given, output = argv[1], argv[2:-1], argv[-1]
    named = dict(a.split('=', 1) for a in given if a.split('=', 1)[0] in INPUTS)
    plain = [a for a in given if a.split('=', 1)[0] not in INPUTS]
    unnamed = [n for n in INPUTS if n not in named]
    if len(plain) != len(unnamed):
        sys.exit(f'{argv[0]}: the model takes {len(INPUTS)} input(s): {", ".join(INPUTS)}')
    files = {**named, **dict(zip(unnamed, plain))}
    model = load_weights(Model().eval(), weights)
    with torch.no_grad():
        results = model(*[torch.from_numpy(np.load(files[n])) for n in INPUTS])
    results = results if isinstance(results, tuple) else (results,)
    if len(results) > 1:
        os.makedirs(output, exist_ok=True)
    for name, result in zip(OUTPUTS, results):
        path = output if len(results) == 1 else os.path.join(output, re.sub(r'[^\\w.-]', '_', name) + '.npy')
        with open(path, 'wb') as f:
            np.save(f, result.numpy())
        print(f'{name}: {result.dtype} {list(result.shape)}', file=sys.stderr)
    print(f'parameters: {sum(p.numel() for p in model.parameters())}', file=sys.stderr)


if __name__ == '__main__':
    main(sys.argv)
`;
