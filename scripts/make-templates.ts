/**
 * Writes the built-in templates in assets/templates/ (run with `npm run templates`).
 * The architectures follow the course and torchvision; the tests check every parameter count.
 */
import { join } from 'node:path';
import { serializeModel, type ModelDocument, type ModelNode, type ParamValue } from '../core/index.ts';
import type { Group } from '../core/graph/modules.ts';
import { TEMPLATE_DIR, writeFileAtomic } from '../cli/files.ts';
import { SCHEMA_FILE } from '../core/layers/schema.ts';

const SCHEMA_PATH = `../schema/${SCHEMA_FILE}`;

class Model {
  private nodes: ModelNode[] = [];
  private edges: { from: string; to: string }[] = [];
  private counters = new Map<string, number>();
  private groups: Group[] = [];
  private openBlocks: Group[] = [];
  constructor(
    private name: string,
    /** What the model teaches, shown on its card in the gallery. */
    private description: string,
  ) {}

  /** Groups the layers `build` adds into a block (nested in the block being built, if any). */
  block<T>(label: string, build: () => T): T {
    const parent = this.openBlocks.at(-1);
    const group: Group = { id: `block:${parent ? `${parent.id.slice('block:'.length)}/` : ''}${label}`, label, nodes: [], collapsed: false, ...(parent ? { parent: parent.id } : {}) };
    this.groups.push(group);
    this.openBlocks.push(group);
    const result = build();
    this.openBlocks.pop();
    return result;
  }

  /** Adds a node fed by `from` (one id, several ids in order, or none) and returns its id. */
  add(op: string, params: Record<string, ParamValue> = {}, from?: string | string[], id?: string): string {
    const base = op.replace(/\dd$/, '').toLowerCase();
    const n = (this.counters.get(base) ?? 0) + 1;
    this.counters.set(base, n);
    const nodeId = id ?? `${base}${n}`;
    this.nodes.push({ id: nodeId, op, params });
    for (const g of this.openBlocks) g.nodes.push(nodeId);
    for (const f of from === undefined ? [] : Array.isArray(from) ? from : [from]) this.edges.push({ from: f, to: nodeId });
    return nodeId;
  }

  /** Adds a chain of layers after `from`, returning the last id. */
  chain(from: string, ...layers: [string, Record<string, ParamValue>?][]): string {
    return layers.reduce((prev, [op, params]) => this.add(op, params ?? {}, prev), from);
  }

  edge(from: string, to: string): void {
    this.edges.push({ from, to });
  }

  doc(): ModelDocument {
    return { format: 'netloom.model', version: 1, name: this.name, description: this.description, nodes: this.nodes, edges: this.edges, ...(this.groups.length > 0 ? { groups: this.groups } : {}) };
  }
}

const conv = (outChannels: number, kernelSize: number, more: Record<string, ParamValue> = {}): [string, Record<string, ParamValue>] => ['Conv2d', { outChannels, kernelSize, ...more }];
const linear = (outFeatures: number, more: Record<string, ParamValue> = {}): [string, Record<string, ParamValue>] => ['Linear', { outFeatures, ...more }];
const relu: [string] = ['ReLU'];

function mlp342(): ModelDocument {
  const m = new Model('3-4-2 MLP', 'The smallest network of the lectures: 3 inputs, 4 hidden sigmoid units, 2 outputs; 26 parameters to count by hand.');
  m.chain(m.add('Input', { shape: [3] }, undefined, 'x'), linear(4), ['Sigmoid'], linear(2));
  return m.doc();
}

/** Deck 003's perceptron: ŷ = sign(⟨w, x⟩), two inputs, no bias, sign of 0 taken as +1. */
function perceptron(): ModelDocument {
  const m = new Model(
    'Perceptron (deck 003)',
    "Rosenblatt's perceptron: ŷ = sign(⟨w, x⟩) with two weights and no bias (sign of 0 is +1). Train it with the perceptron optimiser (w ← w + η·y·x on a mistake) on two classes labelled ±1 or 0/1.",
  );
  m.add('Sign', { atZero: 1 }, m.add('Linear', { outFeatures: 1, bias: false }, m.add('Input', { shape: [2] }, undefined, 'x'), 'w'), 'decide');
  return m.doc();
}

function convExample(): ModelDocument {
  const m = new Model(
    'Conv layer example (32×32×3, ten 5×5 filters, stride 1, pad 2)',
    'One convolution as in the lecture example: how stride and padding set the output size, and why the filters hold (5·5·3 + 1)·10 parameters.',
  );
  m.chain(m.add('Input', { shape: [3, 32, 32] }, undefined, 'image'), conv(10, 5, { stride: 1, padding: 2 }));
  return m.doc();
}

function ca2Cnn(): ModelDocument {
  const m = new Model('CA2 CNN (20-50-500-21)', 'The CA2 coursework network: two convolution and pooling stages shrink 32×32 faces to 5×5 maps before the fully connected classifier.');
  const face = m.add('Input', { shape: [1, 32, 32] }, undefined, 'face');
  const pool: [string, Record<string, ParamValue>] = ['MaxPool2d', { kernelSize: 2, stride: 2 }];
  m.chain(face, conv(20, 5), relu, pool, conv(50, 5), relu, pool, ['Flatten'], linear(500), relu, linear(21));
  return m.doc();
}

function lenet5(): ModelDocument {
  const m = new Model('LeNet-5', "LeCun's LeNet-5: the classic pattern of convolution, pooling and fully connected layers, with tanh.");
  const pool: [string, Record<string, ParamValue>] = ['AvgPool2d', { kernelSize: 2, stride: 2 }];
  const tanh: [string] = ['Tanh'];
  m.chain(m.add('Input', { shape: [1, 32, 32] }, undefined, 'image'), conv(6, 5), tanh, pool, conv(16, 5), tanh, pool, ['Flatten'], linear(120), tanh, linear(84), tanh, linear(10));
  return m.doc();
}

function alexnet(): ModelDocument {
  const m = new Model('AlexNet (torchvision)', 'AlexNet: a large strided first convolution, overlapping max pooling, and a classifier with dropout.');
  const pool: [string, Record<string, ParamValue>] = ['MaxPool2d', { kernelSize: 3, stride: 2 }];
  const drop: [string, Record<string, ParamValue>] = ['Dropout', { p: 0.5 }];
  const image = m.add('Input', { shape: [3, 224, 224] }, undefined, 'image');
  const features = m.block('features', () =>
    m.chain(
      image,
      conv(64, 11, { stride: 4, padding: 2 }),
      relu,
      pool,
      conv(192, 5, { padding: 2 }),
      relu,
      pool,
      conv(384, 3, { padding: 1 }),
      relu,
      conv(256, 3, { padding: 1 }),
      relu,
      conv(256, 3, { padding: 1 }),
      relu,
      pool,
    ),
  );
  const pooled = m.chain(features, ['AdaptiveAvgPool2d', { outputSize: 6 }], ['Flatten']);
  m.block('classifier', () => m.chain(pooled, drop, linear(4096), relu, drop, linear(4096), relu, linear(1000)));
  return m.doc();
}

function vgg16(): ModelDocument {
  const m = new Model('VGG-16 (torchvision)', 'VGG-16: five stages of 3×3 convolutions; most of its 138 M parameters sit in the first fully connected layer.');
  let x = m.add('Input', { shape: [3, 224, 224] }, undefined, 'image');
  // VGG's five stages: convolutions at one width, then a pool.
  for (const [stage, widths] of [
    [64, 64],
    [128, 128],
    [256, 256, 256],
    [512, 512, 512],
    [512, 512, 512],
  ].entries()) {
    x = m.block(`stage${stage + 1}`, () =>
      m.chain(
        widths.reduce((y, v) => m.chain(y, conv(v, 3, { padding: 1 }), relu), x),
        ['MaxPool2d', { kernelSize: 2, stride: 2 }],
      ),
    );
  }
  const drop: [string, Record<string, ParamValue>] = ['Dropout', { p: 0.5 }];
  const flat = m.chain(x, ['AdaptiveAvgPool2d', { outputSize: 7 }], ['Flatten']);
  m.block('classifier', () => m.chain(flat, linear(4096), relu, drop, linear(4096), relu, drop, linear(1000)));
  return m.doc();
}

function resnet18(): ModelDocument {
  const m = new Model('ResNet-18 (torchvision)', 'ResNet-18: residual blocks whose skip connections add the input back; 1×1 convolutions downsample the skip between stages.');
  let x = m.chain(m.add('Input', { shape: [3, 224, 224] }, undefined, 'image'), conv(64, 7, { stride: 2, padding: 3, bias: false }), ['BatchNorm2d'], relu, [
    'MaxPool2d',
    { kernelSize: 3, stride: 2, padding: 1 },
  ]);
  let channels = 64;
  // Four stages of two basic blocks, named as torchvision names them (layer1.0 …).
  for (const [stage, width] of [64, 128, 256, 512].entries()) {
    m.block(`layer${stage + 1}`, () => {
      for (let block = 0; block < 2; block++) {
        const stride = stage > 0 && block === 0 ? 2 : 1;
        x = m.block(`layer${stage + 1}.${block}`, () => {
          const main = m.chain(x, conv(width, 3, { stride, padding: 1, bias: false }), ['BatchNorm2d'], relu, conv(width, 3, { padding: 1, bias: false }), ['BatchNorm2d']);
          const skip = stride !== 1 || channels !== width ? m.block('downsample', () => m.chain(x, conv(width, 1, { stride, bias: false }), ['BatchNorm2d'])) : x;
          return m.add('ReLU', {}, m.add('Add', {}, [main, skip]));
        });
        channels = width;
      }
    });
  }
  m.chain(x, ['AdaptiveAvgPool2d', { outputSize: 1 }], ['Flatten'], linear(1000));
  return m.doc();
}

function charLstm(): ModelDocument {
  const m = new Model('Character-level LSTM', 'A character-level language model: embedding, a two-layer LSTM and a linear layer over the 65 characters.');
  const chars = m.add('Input', { shape: [100], dtype: 'int64' }, undefined, 'chars');
  const lstm = m.add('LSTM', { hiddenSize: 256, numLayers: 2 }, m.add('Embedding', { numEmbeddings: 65, embeddingDim: 64 }, chars));
  m.add('Linear', { outFeatures: 65 }, `${lstm}:output`, 'logits');
  return m.doc();
}

function autoencoder(): ModelDocument {
  const m = new Model('Autoencoder (784-256-64-16)', 'An autoencoder: the encoder squeezes a 784-pixel image into a 16-number code; the decoder rebuilds the image.');
  m.chain(m.add('Input', { shape: [784] }, undefined, 'image'), linear(256), relu, linear(64), relu, linear(16), relu, linear(64), relu, linear(256), relu, linear(784), ['Sigmoid']);
  return m.doc();
}

function gpt1(): ModelDocument {
  const m = new Model('GPT-1', 'GPT-1: token and learned position embeddings, 12 causal Transformer layers, and an output head tied to the token embedding.');
  const tokens = m.add('Input', { shape: [512], dtype: 'int64' }, undefined, 'tokens');
  const tok = m.add('Embedding', { numEmbeddings: 40478, embeddingDim: 768 }, tokens, 'tok_emb');
  let x = m.add('PositionalEncoding', { kind: 'learned', maxLen: 512, dropout: 0.1 }, tok, 'pos_emb');
  for (let i = 0; i < 12; i++) x = m.add('TransformerEncoderLayer', { nhead: 12, dimFeedforward: 3072, activation: 'gelu', causal: true }, x, `block${i + 1}`);
  m.add('Linear', { outFeatures: 40478, bias: false, tiedTo: tok }, x, 'lm_head');
  return m.doc();
}

function bertBase(): ModelDocument {
  const m = new Model('BERT-base (with pooler)', 'BERT-base: word, position and segment embeddings, 12 bidirectional Transformer layers, and a pooler on the first token.');
  const ids = m.add('Input', { shape: [512], dtype: 'int64' }, undefined, 'input_ids');
  const types = m.add('Input', { shape: [512], dtype: 'int64' }, undefined, 'token_type_ids');
  const words = m.add('PositionalEncoding', { kind: 'learned', maxLen: 512 }, m.add('Embedding', { numEmbeddings: 30522, embeddingDim: 768, paddingIdx: 0 }, ids, 'word_emb'), 'pos_emb');
  const segments = m.add('Embedding', { numEmbeddings: 2, embeddingDim: 768 }, types, 'type_emb');
  let x = m.add('Dropout', { p: 0.1 }, m.add('LayerNorm', { eps: 1e-12 }, m.add('Add', {}, [words, segments], 'embeddings'), 'emb_norm'), 'emb_dropout');
  for (let i = 0; i < 12; i++) x = m.add('TransformerEncoderLayer', { nhead: 12, dimFeedforward: 3072, activation: 'gelu', layerNormEps: 1e-12 }, x, `layer${i + 1}`);
  m.chain(m.add('Select', { dim: 1, index: 0 }, x, 'cls'), linear(768), ['Tanh']);
  return m.doc();
}

function llamaBlock(): ModelDocument {
  const m = new Model(
    'Llama-style decoder block (RMSNorm, RoPE, GQA, SwiGLU)',
    'One Llama-style decoder block: RMSNorm, rotary attention with grouped key/value heads, a SwiGLU feed-forward layer, residual adds.',
  );
  const x = m.add('Input', { shape: ['T', 512] }, undefined, 'x');
  const attn = m.add('MultiheadAttention', { numHeads: 8, numKeyValueHeads: 2, bias: false, causal: true, rotary: true }, m.add('RMSNorm', {}, x, 'attn_norm'), 'attn');
  const h = m.add('Add', {}, [x, attn], 'residual1');
  const ff = m.add('FeedForward', { hiddenFeatures: 1376, activation: 'swiglu', bias: false }, m.add('RMSNorm', {}, h, 'ffn_norm'), 'ffn');
  m.add('Add', {}, [h, ff], 'residual2');
  return m.doc();
}

/** Deck 001's self-attention from primitives: q = xW_q, k = xW_k, v = xW_v, e = qkᵀ/√D, a = softmax(e), y = a·v (3D² parameters). */
function attentionFromScratch(): ModelDocument {
  const m = new Model('Self-attention from scratch (deck 001)', 'Attention built from primitives as in deck 001: query, key and value projections, scaled scores, softmax and the weighted sum.');
  const D = 64;
  const x = m.add('Input', { shape: ['T', D] }, undefined, 'x');
  const project = (id: string) => m.add('Linear', { outFeatures: D, bias: false }, x, id);
  const [q, k, v] = [project('W_q'), project('W_k'), project('W_v')];
  const scores = m.add('MatMul', {}, [q, m.add('Transpose', { dim0: -2, dim1: -1 }, k, 'k_T')], 'scores');
  const weights = m.add('Softmax', { dim: -1 }, m.add('Scale', { sqrtOf: D }, scores, 'scaled'), 'attention');
  m.add('MatMul', {}, [weights, v], 'y');
  return m.doc();
}

/** Krizhevsky et al. 2012 as published: 96-256-384-384-256 filters, LRN after conv1 and conv2, conv2/4/5 split over two GPUs (groups = 2), 227×227 input. */
function alexnet2012(): ModelDocument {
  const m = new Model('AlexNet (2012 original: LRN, groups = 2)', 'The 2012 AlexNet as published: local response normalisation and convolutions split into two groups, one per GPU.');
  const pool: [string, Record<string, ParamValue>] = ['MaxPool2d', { kernelSize: 3, stride: 2 }];
  const lrn: [string, Record<string, ParamValue>] = ['LocalResponseNorm', { size: 5, alpha: 1e-4, beta: 0.75, k: 2 }];
  const drop: [string, Record<string, ParamValue>] = ['Dropout', { p: 0.5 }];
  m.chain(
    m.add('Input', { shape: [3, 227, 227] }, undefined, 'image'),
    conv(96, 11, { stride: 4 }),
    relu,
    lrn,
    pool,
    conv(256, 5, { padding: 2, groups: 2 }),
    relu,
    lrn,
    pool,
    conv(384, 3, { padding: 1 }),
    relu,
    conv(384, 3, { padding: 1, groups: 2 }),
    relu,
    conv(256, 3, { padding: 1, groups: 2 }),
    relu,
    pool,
    ['Flatten'],
    drop,
    linear(4096),
    relu,
    drop,
    linear(4096),
    relu,
    linear(1000),
  );
  return m.doc();
}

/** Deck 001's image captioning: CNN features z, h₀ = f_w(z) (a Linear), an RNN over the caption's word embeddings, word scores. */
function imageCaptioning(): ModelDocument {
  const m = new Model(
    'Image captioning (deck 001: CNN features → RNN initial state)',
    "Image captioning as in deck 001: CNN image features become the recurrent network's initial state, which then predicts words.",
  );
  const pool: [string, Record<string, ParamValue>] = ['MaxPool2d', { kernelSize: 2 }];
  const features = m.chain(
    m.add('Input', { shape: [3, 64, 64] }, undefined, 'image'),
    conv(16, 3, { padding: 1 }),
    relu,
    pool,
    conv(32, 3, { padding: 1 }),
    relu,
    pool,
    ['AdaptiveAvgPool2d', { outputSize: 1 }],
    ['Flatten'],
  );
  const h0 = m.add('Linear', { outFeatures: 256 }, features, 'f_w');
  const words = m.add('Embedding', { numEmbeddings: 1000, embeddingDim: 128 }, m.add('Input', { shape: ['T'], dtype: 'int64' }, undefined, 'caption'), 'word_emb');
  const rnn = m.add('RNN', { hiddenSize: 256 }, words, 'rnn');
  m.edge(h0, `${rnn}:h0`);
  m.add('Linear', { outFeatures: 1000 }, `${rnn}:output`, 'word_scores');
  return m.doc();
}

/** A character-level GPT small enough to train and sample here: 65 symbols, 4 pre-LN causal layers of width 128, tied head. */
function charGpt(): ModelDocument {
  const m = new Model(
    'Character-level GPT (65 symbols, 4 layers, d 128)',
    'A small GPT over characters: token and position embeddings, four causal Transformer layers; trains on the shipped sonnets.',
  );
  const tok = m.add('Embedding', { numEmbeddings: 65, embeddingDim: 128 }, m.add('Input', { shape: ['T'], dtype: 'int64' }, undefined, 'chars'), 'tok_emb');
  let x = m.add('PositionalEncoding', { kind: 'learned', maxLen: 256, dropout: 0.1 }, tok, 'pos_emb');
  for (let i = 1; i <= 4; i++) x = m.add('TransformerEncoderLayer', { nhead: 4, dimFeedforward: 512, activation: 'gelu', causal: true, normFirst: true }, x, `block${i}`);
  m.add('Linear', { outFeatures: 65, bias: false, tiedTo: tok }, m.add('LayerNorm', {}, x, 'norm'), 'lm_head');
  return m.doc();
}

/** GoogLeNet (Inception v1) as torchvision builds it without the auxiliary classifiers: BN after every conv, 3×3 in the "5×5" branch. */
function googlenet(): ModelDocument {
  const m = new Model(
    'GoogLeNet / Inception v1 (torchvision, no auxiliary classifiers)',
    'GoogLeNet: Inception modules run 1×1, 3×3, 5×5 and pooling paths side by side and concatenate them; 1×1 convolutions keep it cheap.',
  );
  const basic = (from: string, out: number, kernelSize: number, more: Record<string, ParamValue> = {}) =>
    m.chain(from, conv(out, kernelSize, { bias: false, ...more }), ['BatchNorm2d', { eps: 1e-3 }], relu);
  const pool = (from: string, kernelSize = 3) => m.add('MaxPool2d', { kernelSize, stride: 2, ceilMode: true }, from);
  const inception = (x: string, name: string, [c1, r3, c3, r5, c5, proj]: number[]) => {
    const branches = [
      basic(x, c1, 1),
      basic(basic(x, r3, 1), c3, 3, { padding: 1 }),
      basic(basic(x, r5, 1), c5, 3, { padding: 1 }),
      basic(m.add('MaxPool2d', { kernelSize: 3, stride: 1, padding: 1, ceilMode: true }, x), proj, 1),
    ];
    return m.add('Concat', { dim: 1 }, branches, name);
  };
  let x = pool(basic(m.add('Input', { shape: [3, 224, 224] }, undefined, 'image'), 64, 7, { stride: 2, padding: 3 }));
  x = pool(basic(basic(x, 64, 1), 192, 3, { padding: 1 }));
  x = inception(x, 'inception3a', [64, 96, 128, 16, 32, 32]);
  x = pool(inception(x, 'inception3b', [128, 128, 192, 32, 96, 64]));
  x = inception(x, 'inception4a', [192, 96, 208, 16, 48, 64]);
  x = inception(x, 'inception4b', [160, 112, 224, 24, 64, 64]);
  x = inception(x, 'inception4c', [128, 128, 256, 24, 64, 64]);
  x = inception(x, 'inception4d', [112, 144, 288, 32, 64, 64]);
  x = pool(inception(x, 'inception4e', [256, 160, 320, 32, 128, 128]), 2);
  x = inception(x, 'inception5a', [256, 160, 320, 32, 128, 128]);
  x = inception(x, 'inception5b', [384, 192, 384, 48, 128, 128]);
  m.chain(x, ['AdaptiveAvgPool2d', { outputSize: 1 }], ['Flatten'], ['Dropout', { p: 0.2 }], linear(1000));
  return m.doc();
}

/**
 * Vaswani et al. (2017), base: 6 + 6 post-LN layers, d 512, 8 heads, FF 2048, dropout 0.1, embeddings scaled
 * by √d with sinusoidal positions, one 37,000-token table shared by source, target and output (as the
 * paper), and the final LayerNorms of torch.nn.Transformer.
 */
function vaswaniBase(): ModelDocument {
  const m = new Model(
    'Transformer base (Vaswani et al. 2017), encoder-decoder',
    'The original Transformer: an encoder and a decoder of six layers each, cross-attention between them, one shared embedding table.',
  );
  const d = 512;
  const embed = (input: string, side: string, tiedTo: string | null) => {
    const table = m.add('Embedding', { numEmbeddings: 37000, embeddingDim: d, tiedTo }, m.add('Input', { shape: [side === 'src' ? 'S' : 'T'], dtype: 'int64' }, undefined, input), `${side}_emb`);
    return m.add('PositionalEncoding', { kind: 'sinusoidal', dropout: 0.1 }, m.add('Scale', { factor: Math.sqrt(d) }, table, `${side}_scaled`), `${side}_pos`);
  };
  let memory = embed('source', 'src', null);
  for (let i = 1; i <= 6; i++) memory = m.add('TransformerEncoderLayer', { nhead: 8, dimFeedforward: 2048 }, memory, `encoder${i}`);
  memory = m.add('LayerNorm', {}, memory, 'encoder_norm');
  let y = embed('target', 'tgt', 'src_emb');
  for (let i = 1; i <= 6; i++) {
    const layer = m.add('TransformerDecoderLayer', { nhead: 8, dimFeedforward: 2048 }, y, `decoder${i}`);
    m.edge(memory, `${layer}:memory`);
    y = layer;
  }
  m.add('Linear', { outFeatures: 37000, bias: false, tiedTo: 'src_emb' }, m.add('LayerNorm', {}, y, 'decoder_norm'), 'generator');
  return m.doc();
}

interface DecoderSizes {
  name: string;
  vocab: number;
  d: number;
  layers: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  eps: number;
  slidingWindow?: number;
  /** Mixture of experts in place of the feed-forward block: [experts, chosen per token]. */
  experts?: [number, number];
}

/** A Llama-family decoder at its real size: pre-RMSNorm blocks of rotary causal (GQA) attention and a SwiGLU feed-forward (or a mixture of them), then RMSNorm and an untied LM head. */
function llamaFamily(s: DecoderSizes): ModelDocument {
  const m = new Model(
    s.name,
    `${s.name} at its published size: RMSNorm, rotary attention with grouped key/value heads, SwiGLU feed-forward layers (experts in Mixtral); see how the parameters add up to billions.`,
  );
  let x = m.add('Embedding', { numEmbeddings: s.vocab, embeddingDim: s.d }, m.add('Input', { shape: ['T'], dtype: 'int64' }, undefined, 'tokens'), 'embed_tokens');
  for (let i = 1; i <= s.layers; i++) {
    const attention = { numHeads: s.heads, numKeyValueHeads: s.kvHeads, bias: false, causal: true, rotary: true, ...(s.slidingWindow ? { slidingWindow: s.slidingWindow } : {}) };
    const h = m.add('Add', {}, [x, m.add('MultiheadAttention', attention, m.add('RMSNorm', { eps: s.eps }, x, `layer${i}_attn_norm`), `layer${i}_attn`)], `layer${i}_residual1`);
    const normed = m.add('RMSNorm', { eps: s.eps }, h, `layer${i}_ffn_norm`);
    const ff = s.experts
      ? m.add('MixtureOfExperts', { numExperts: s.experts[0], topK: s.experts[1], hiddenFeatures: s.hidden }, normed, `layer${i}_moe`)
      : m.add('FeedForward', { hiddenFeatures: s.hidden, activation: 'swiglu', bias: false }, normed, `layer${i}_ffn`);
    x = m.add('Add', {}, [h, ff], `layer${i}_residual2`);
  }
  m.add('Linear', { outFeatures: s.vocab, bias: false }, m.add('RMSNorm', { eps: s.eps }, x, 'norm'), 'lm_head');
  return m.doc();
}

const LLAMA2_7B: DecoderSizes = { name: 'Llama-2 7B', vocab: 32000, d: 4096, layers: 32, heads: 32, kvHeads: 32, hidden: 11008, eps: 1e-5 };
const MIXTRAL_8X7B: DecoderSizes = { name: 'Mixtral 8×7B (8 experts, top 2)', vocab: 32000, d: 4096, layers: 32, heads: 32, kvHeads: 8, hidden: 14336, eps: 1e-5, experts: [8, 2] };
const MISTRAL_7B: DecoderSizes = { name: 'Mistral 7B (v0.1: sliding window 4,096)', vocab: 32000, d: 4096, layers: 32, heads: 32, kvHeads: 8, hidden: 14336, eps: 1e-5, slidingWindow: 4096 };

export const TEMPLATES: Record<string, () => ModelDocument> = {
  perceptron,
  'mlp-3-4-2': mlp342,
  'conv-example': convExample,
  'ca2-cnn': ca2Cnn,
  lenet5,
  alexnet,
  vgg16,
  resnet18,
  'char-lstm': charLstm,
  autoencoder,
  gpt1,
  'bert-base': bertBase,
  'llama-block': llamaBlock,
  'attention-from-scratch': attentionFromScratch,
  'alexnet-2012': alexnet2012,
  googlenet,
  'transformer-base': vaswaniBase,
  'image-captioning': imageCaptioning,
  'char-gpt': charGpt,
  'llama2-7b': () => llamaFamily(LLAMA2_7B),
  'mistral-7b': () => llamaFamily(MISTRAL_7B),
  'mixtral-8x7b': () => llamaFamily(MIXTRAL_8X7B),
};

// Editors (VS Code) find the schema through $schema, relative to the templates folder.
for (const [id, make] of Object.entries(TEMPLATES)) await writeFileAtomic(join(TEMPLATE_DIR, `${id}.json`), serializeModel({ $schema: SCHEMA_PATH, ...make() }));
console.log(`wrote ${Object.keys(TEMPLATES).length} templates to ${TEMPLATE_DIR}`);
