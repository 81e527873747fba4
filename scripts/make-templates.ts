/**
 * Writes the built-in templates in assets/templates/ (run with `npm run templates`).
 * The architectures follow the course and torchvision; the tests check every parameter count.
 */
import { join } from 'node:path';
import { serializeModel, type ModelDocument, type ModelNode, type ParamValue } from '../core/index.ts';
import { TEMPLATE_DIR, writeFileAtomic } from '../cli/files.ts';
import { SCHEMA_FILE } from '../core/layers/schema.ts';

const SCHEMA_PATH = `../schema/${SCHEMA_FILE}`;

class Model {
  private nodes: ModelNode[] = [];
  private edges: { from: string; to: string }[] = [];
  private counters = new Map<string, number>();
  constructor(private name: string) {}

  /** Adds a node fed by `from` (one id, several ids in order, or none) and returns its id. */
  add(op: string, params: Record<string, ParamValue> = {}, from?: string | string[], id?: string): string {
    const base = op.replace(/\dd$/, '').toLowerCase();
    const n = (this.counters.get(base) ?? 0) + 1;
    this.counters.set(base, n);
    const nodeId = id ?? `${base}${n}`;
    this.nodes.push({ id: nodeId, op, params });
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
    return { format: 'netloom.model', version: 1, name: this.name, nodes: this.nodes, edges: this.edges };
  }
}

const conv = (outChannels: number, kernelSize: number, more: Record<string, ParamValue> = {}): [string, Record<string, ParamValue>] => ['Conv2d', { outChannels, kernelSize, ...more }];
const linear = (outFeatures: number, more: Record<string, ParamValue> = {}): [string, Record<string, ParamValue>] => ['Linear', { outFeatures, ...more }];
const relu: [string] = ['ReLU'];

function mlp342(): ModelDocument {
  const m = new Model('3-4-2 MLP');
  m.chain(m.add('Input', { shape: [3] }, undefined, 'x'), linear(4), ['Sigmoid'], linear(2));
  return m.doc();
}

function convExample(): ModelDocument {
  const m = new Model('Conv layer example (32×32×3, ten 5×5 filters, stride 1, pad 2)');
  m.chain(m.add('Input', { shape: [3, 32, 32] }, undefined, 'image'), conv(10, 5, { stride: 1, padding: 2 }));
  return m.doc();
}

function ca2Cnn(): ModelDocument {
  const m = new Model('CA2 CNN (20-50-500-21)');
  const face = m.add('Input', { shape: [1, 32, 32] }, undefined, 'face');
  const pool: [string, Record<string, ParamValue>] = ['MaxPool2d', { kernelSize: 2, stride: 2 }];
  m.chain(face, conv(20, 5), relu, pool, conv(50, 5), relu, pool, ['Flatten'], linear(500), relu, linear(21));
  return m.doc();
}

function lenet5(): ModelDocument {
  const m = new Model('LeNet-5');
  const pool: [string, Record<string, ParamValue>] = ['AvgPool2d', { kernelSize: 2, stride: 2 }];
  const tanh: [string] = ['Tanh'];
  m.chain(m.add('Input', { shape: [1, 32, 32] }, undefined, 'image'), conv(6, 5), tanh, pool, conv(16, 5), tanh, pool, ['Flatten'], linear(120), tanh, linear(84), tanh, linear(10));
  return m.doc();
}

function alexnet(): ModelDocument {
  const m = new Model('AlexNet (torchvision)');
  const pool: [string, Record<string, ParamValue>] = ['MaxPool2d', { kernelSize: 3, stride: 2 }];
  const drop: [string, Record<string, ParamValue>] = ['Dropout', { p: 0.5 }];
  m.chain(
    m.add('Input', { shape: [3, 224, 224] }, undefined, 'image'),
    conv(64, 11, { stride: 4, padding: 2 }), relu, pool,
    conv(192, 5, { padding: 2 }), relu, pool,
    conv(384, 3, { padding: 1 }), relu,
    conv(256, 3, { padding: 1 }), relu,
    conv(256, 3, { padding: 1 }), relu, pool,
    ['AdaptiveAvgPool2d', { outputSize: 6 }], ['Flatten'],
    drop, linear(4096), relu, drop, linear(4096), relu, linear(1000),
  );
  return m.doc();
}

function vgg16(): ModelDocument {
  const m = new Model('VGG-16 (torchvision)');
  let x = m.add('Input', { shape: [3, 224, 224] }, undefined, 'image');
  for (const v of [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const) {
    x = v === 'M' ? m.chain(x, ['MaxPool2d', { kernelSize: 2, stride: 2 }]) : m.chain(x, conv(v, 3, { padding: 1 }), relu);
  }
  const drop: [string, Record<string, ParamValue>] = ['Dropout', { p: 0.5 }];
  m.chain(x, ['AdaptiveAvgPool2d', { outputSize: 7 }], ['Flatten'], linear(4096), relu, drop, linear(4096), relu, drop, linear(1000));
  return m.doc();
}

function resnet18(): ModelDocument {
  const m = new Model('ResNet-18 (torchvision)');
  let x = m.chain(m.add('Input', { shape: [3, 224, 224] }, undefined, 'image'), conv(64, 7, { stride: 2, padding: 3, bias: false }), ['BatchNorm2d'], relu, ['MaxPool2d', { kernelSize: 3, stride: 2, padding: 1 }]);
  let channels = 64;
  for (const [stage, width] of [64, 128, 256, 512].entries()) {
    for (let block = 0; block < 2; block++) {
      const stride = stage > 0 && block === 0 ? 2 : 1;
      const main = m.chain(x, conv(width, 3, { stride, padding: 1, bias: false }), ['BatchNorm2d'], relu, conv(width, 3, { padding: 1, bias: false }), ['BatchNorm2d']);
      const skip = stride !== 1 || channels !== width ? m.chain(x, conv(width, 1, { stride, bias: false }), ['BatchNorm2d']) : x;
      x = m.add('ReLU', {}, m.add('Add', {}, [main, skip]));
      channels = width;
    }
  }
  m.chain(x, ['AdaptiveAvgPool2d', { outputSize: 1 }], ['Flatten'], linear(1000));
  return m.doc();
}

function charLstm(): ModelDocument {
  const m = new Model('Character-level LSTM');
  const chars = m.add('Input', { shape: [100], dtype: 'int64' }, undefined, 'chars');
  const lstm = m.add('LSTM', { hiddenSize: 256, numLayers: 2 }, m.add('Embedding', { numEmbeddings: 65, embeddingDim: 64 }, chars));
  m.add('Linear', { outFeatures: 65 }, `${lstm}:output`, 'logits');
  return m.doc();
}

function autoencoder(): ModelDocument {
  const m = new Model('Autoencoder (784-256-64-16)');
  m.chain(m.add('Input', { shape: [784] }, undefined, 'image'), linear(256), relu, linear(64), relu, linear(16), relu, linear(64), relu, linear(256), relu, linear(784), ['Sigmoid']);
  return m.doc();
}

function gpt1(): ModelDocument {
  const m = new Model('GPT-1');
  const tokens = m.add('Input', { shape: [512], dtype: 'int64' }, undefined, 'tokens');
  const tok = m.add('Embedding', { numEmbeddings: 40478, embeddingDim: 768 }, tokens, 'tok_emb');
  let x = m.add('PositionalEncoding', { kind: 'learned', maxLen: 512, dropout: 0.1 }, tok, 'pos_emb');
  for (let i = 0; i < 12; i++) x = m.add('TransformerEncoderLayer', { nhead: 12, dimFeedforward: 3072, activation: 'gelu', causal: true }, x, `block${i + 1}`);
  m.add('Linear', { outFeatures: 40478, bias: false, tiedTo: tok }, x, 'lm_head');
  return m.doc();
}

function bertBase(): ModelDocument {
  const m = new Model('BERT-base (with pooler)');
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
  const m = new Model('Llama-style decoder block (RMSNorm, RoPE, GQA, SwiGLU)');
  const x = m.add('Input', { shape: ['T', 512] }, undefined, 'x');
  const attn = m.add('MultiheadAttention', { numHeads: 8, numKeyValueHeads: 2, bias: false, causal: true, rotary: true }, m.add('RMSNorm', {}, x, 'attn_norm'), 'attn');
  const h = m.add('Add', {}, [x, attn], 'residual1');
  const ff = m.add('FeedForward', { hiddenFeatures: 1376, activation: 'swiglu', bias: false }, m.add('RMSNorm', {}, h, 'ffn_norm'), 'ffn');
  m.add('Add', {}, [h, ff], 'residual2');
  return m.doc();
}

export const TEMPLATES: Record<string, () => ModelDocument> = {
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
};

// Editors (VS Code) find the schema through $schema, relative to the templates folder.
for (const [id, make] of Object.entries(TEMPLATES)) await writeFileAtomic(join(TEMPLATE_DIR, `${id}.json`), serializeModel({ $schema: SCHEMA_PATH, ...make() }));
console.log(`wrote ${Object.keys(TEMPLATES).length} templates to ${TEMPLATE_DIR}`);
