/** The layer catalogue: every spec, by op name. */
import { activationLayers } from './activation.ts';
import { attentionLayers } from './attention.ts';
import { basicLayers } from './basic.ts';
import { convLayers } from './conv.ts';
import { embeddingLayers } from './embedding.ts';
import { lossLayers } from './loss.ts';
import { moeLayers } from './moe.ts';
import { normLayers } from './norm.ts';
import { OnnxOp } from './onnxop.ts';
import { recurrentLayers } from './recurrent.ts';
import { tensorLayers } from './tensorops.ts';
import { thresholdLayers } from './threshold.ts';
import type { ParamValue } from '../graph/types.ts';
import type { LayerSpec, PortSpec } from './spec.ts';

export const LAYERS: readonly LayerSpec[] = [
  ...basicLayers,
  ...convLayers,
  ...activationLayers,
  ...thresholdLayers,
  ...normLayers,
  ...embeddingLayers,
  ...attentionLayers,
  ...tensorLayers,
  ...moeLayers,
  ...recurrentLayers,
  ...lossLayers,
  OnnxOp,
];

const BY_OP = new Map(LAYERS.map((spec) => [spec.op, spec]));

export function getLayer(op: string): LayerSpec | undefined {
  return BY_OP.get(op);
}

/** A node's output ports: fixed for most layers, counted from the params for OnnxOp. */
export function outputPorts(spec: LayerSpec, params: Record<string, ParamValue> | undefined): PortSpec[] {
  return spec.outputPorts?.(params ?? {}) ?? spec.outputs;
}

export type * from './spec.ts';
