/**
 * Generates core/onnx/onnx-pb.js from ONNX's onnx.proto (scripts/onnx/onnx.proto, ONNX 1.12
 * as Debian ships it) with protobufjs-cli: static encoders and decoders, so that nothing is compiled
 * with eval at run time (the editor runs under a strict Content Security Policy).
 * Run: node --import tsx scripts/make-onnx-schema.ts
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const out = `${root}core/onnx/onnx-pb`;
execFileSync(bin('pbjs'), ['-t', 'static-module', '-w', 'es6', '--keep-case', '--no-verify', '--no-delimited', '--no-typeurl', '--no-comments', '-o', `${out}.js`, `${root}scripts/onnx/onnx.proto`], { stdio: 'inherit' });
console.log(`wrote ${out}.js (its types are in onnx-pb.d.ts, written by hand for the messages Netloom uses)`);
