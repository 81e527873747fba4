/** Netloom's platform-free core: the model document, the layer catalogue and shape inference. */
export * from './graph/types.ts';
export * from './graph/document.ts';
export * from './graph/dim.ts';
export * from './graph/diagnostics.ts';
export * from './shape/infer.ts';
export * from './shape/summary.ts';
export { connectionProblem, edgeEnd, edgePortNames } from './shape/wiring.ts';
export { LAYERS, getLayer } from './layers/index.ts';
export { describeMacs, describeParam, formatCount } from './layers/common.ts';
export type * from './layers/spec.ts';
