/** Dataset formats and adaptation: uint8 images, padding and channels for the model, CSV files, image folders. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseCsv } from '../../core/data/csv.ts';
import { DatasetError } from '../../core/data/dataset.ts';
import { imageFolderDataset, type DecodedImage } from '../../core/data/imagefolder.ts';
import { fitImages, imagesFromArrays } from '../../core/data/images.ts';

const digits = () =>
  imagesFromArrays('digits', { dtype: 'uint8', dims: [2, 28, 28], data: Uint8Array.from({ length: 2 * 784 }, (_, i) => i % 256) }, { dtype: 'uint8', dims: [2], data: Uint8Array.from([3, 7]) });

describe('image datasets', () => {
  test('uint8 pixels become floats in [0, 1], with one channel, and labels become class indices', () => {
    const ds = digits();
    assert.deepEqual(ds.x.dims, [1, 28, 28]);
    assert.equal((ds.x.data as Float32Array)[255], 1);
    assert.deepEqual([...(ds.y.data as BigInt64Array)], [3n, 7n]);
    assert.equal(ds.classes, 8);
  });

  test('28×28 digits are zero-padded in the centre of a 32×32 input, and the grey channel repeated for three', () => {
    const ds = digits();
    const { dataset, adapted } = fitImages(ds, { shape: ['N', 3, 32, 32], dtype: 'float32' });
    assert.deepEqual(adapted, ['zero-padded 28×28 to 32×32, centred', 'repeated the grey channel for 3 channels']);
    assert.deepEqual(dataset.x.dims, [3, 32, 32]);
    const x = dataset.x.data as Float32Array;
    const source = ds.x.data as Float32Array;
    const at = (n: number, c: number, r: number, col: number) => x[((n * 3 + c) * 32 + r) * 32 + col];
    for (const c of [0, 1, 2]) {
      assert.equal(at(1, c, 2 + 5, 2 + 9), source[784 + 5 * 28 + 9], 'pixel (5, 9) moves to (7, 11)');
      assert.equal(at(1, c, 1, 2 + 9), 0, 'the border is zero');
      assert.equal(at(1, c, 30, 30), 0);
    }
    assert.equal(
      x.reduce((a, b) => a + b, 0),
      3 * source.reduce((a, b) => a + b, 0),
      'nothing else added or lost',
    );
  });

  test('an image that already fits is left alone; a larger one or other channels are clear errors', () => {
    const ds = digits();
    assert.equal(fitImages(ds, { shape: ['N', 1, 28, 28], dtype: 'float32' }).dataset, ds);
    assert.equal(fitImages(ds, { shape: ['N', 784], dtype: 'float32' }).dataset, ds, 'a flat input is shapedTo()’s business');
    assert.throws(
      () => fitImages(ds, { shape: ['N', 1, 24, 24], dtype: 'float32' }),
      (e: Error) => e instanceof DatasetError && /digits's images are 1×28×28 but the model input is N×1×24×24: they are larger/.test(e.message),
    );
    assert.throws(() => fitImages(ds, { shape: ['N', 2, 32, 32], dtype: 'float32' }), /1 channels cannot become 2/);
  });
});

describe('CSV files', () => {
  test('numeric columns with a header; the label column by name; words become sorted classes', () => {
    const { dataset, columns, label, features, classNames } = parseCsv('iris.csv', 'sepal,petal,species,weight\n5.1,1.4,setosa,3\n"6.3",4.9,virginica,2.5\r\n\n5.8,4.0,versicolor,1\n', 'species');
    assert.deepEqual(columns, ['sepal', 'petal', 'species', 'weight'], 'every column, in order, to pick the label from');
    assert.equal(label, 'species');
    assert.deepEqual(features, ['sepal', 'petal', 'weight']);
    assert.deepEqual(classNames, ['setosa', 'versicolor', 'virginica']);
    assert.equal(dataset.size, 3);
    assert.deepEqual([...(dataset.x.data as Float32Array)], [5.1, 1.4, 3, 6.3, 4.9, 2.5, 5.8, 4, 1].map(Math.fround));
    assert.deepEqual([...(dataset.y.data as BigInt64Array)], [0n, 2n, 1n]);
    assert.equal(dataset.classes, 3);
  });

  test('without a header the last column is the label: whole numbers are classes, others regression targets', () => {
    const parsed = parseCsv('a.csv', '0.5,1\n0.25,0\n0.125,2\n');
    assert.deepEqual([parsed.columns, parsed.label], [['column 1', 'column 2'], 'column 2']);
    const classes = parsed.dataset;
    assert.deepEqual([...(classes.y.data as BigInt64Array)], [1n, 0n, 2n]);
    assert.equal(classes.y.dtype, 'int64');
    const regression = parseCsv('b.csv', '1.5,0.5\n-2,1.5\n', 0).dataset;
    assert.deepEqual(regression.y, { dims: [1], dtype: 'float32', data: Float32Array.from([1.5, -2]) });
    assert.deepEqual([...(regression.x.data as Float32Array)], [0.5, 1.5]);
  });

  test('a first row is the header only when it has a word above numbers: words in the label column are classes', () => {
    const iris = parseCsv('iris.csv', '5.1,3.5,setosa\n4.9,3.0,setosa\n6.3,3.3,virginica\n');
    assert.equal(iris.header, false);
    assert.deepEqual([iris.columns, iris.label, iris.classNames], [['column 1', 'column 2', 'column 3'], 'column 3', ['setosa', 'virginica']]);
    assert.equal(iris.dataset.size, 3);
    assert.deepEqual([...(iris.dataset.x.data as Float32Array)], [5.1, 3.5, 4.9, 3, 6.3, 3.3].map(Math.fround));
    assert.deepEqual([...(iris.dataset.y.data as BigInt64Array)], [0n, 0n, 1n]);
    const named = parseCsv('iris.csv', 'sepal,petal,species\n5.1,3.5,setosa\n6.3,3.3,virginica\n');
    assert.deepEqual([named.header, named.features, named.dataset.size], [true, ['sepal', 'petal'], 2]);
    // A header over numeric labels too, and one that names only some columns.
    assert.equal(parseCsv('a.csv', 'x,y,label\n1,2,0\n3,4,1\n').header, true);
    assert.equal(parseCsv('a.csv', '1,y,label\n1,2,0\n3,4,1\n').header, true);
    assert.equal(parseCsv('a.csv', '1,2,0\n3,4,1\n').header, false);
  });

  test('problems name the file, the line and the column', () => {
    assert.throws(() => parseCsv('c.csv', 'a,b,y\n1,2,0\n1,x,1\n'), /c\.csv: line 3, column "b": "x" is not a number/);
    assert.throws(() => parseCsv('c.csv', 'a,b,y\n1,2,0\n1,2\n'), /c\.csv: line 3 has 2 fields, not 3/);
    assert.throws(() => parseCsv('c.csv', 'a,y\n1,0\n2\n'), /c\.csv: line 3 has 1 field, not 2 as the first row$/);
    assert.throws(() => parseCsv('c.csv', 'a,b,y\n1,2,0\n', 'z'), /c\.csv: no column named "z" \(columns: a, b, y\)/);
    assert.throws(() => parseCsv('c.csv', ''), /c\.csv: the file has no rows/);
  });
});

describe('image folders', () => {
  const grey = (width: number, height: number, values: number[]): DecodedImage => ({ width, height, channels: 1, data: Uint8Array.from(values) });

  test('images are resized bilinearly to the model input, as torch.nn.functional.interpolate does', () => {
    // interpolate(tensor([[0, 1], [2, 3]]), size=(4, 4), mode='bilinear', align_corners=False), in 1/255 steps.
    const torch = [0, 0.25, 0.75, 1, 0.5, 0.75, 1.25, 1.5, 1.5, 1.75, 2.25, 2.5, 2, 2.25, 2.75, 3];
    const { dataset, classNames, resized } = imageFolderDataset(
      'shapes',
      [
        { name: 'a', images: [{ file: 'a.png', image: grey(2, 2, [0, 1, 2, 3]) }] },
        {
          name: 'b',
          images: [
            {
              file: 'b.png',
              image: grey(
                4,
                4,
                Array.from({ length: 16 }, (_, i) => i),
              ),
            },
          ],
        },
      ],
      [1, 4, 4],
    );
    assert.equal(resized, true);
    assert.deepEqual(classNames, ['a', 'b']);
    const x = dataset.x.data as Float32Array;
    torch.forEach((v, i) => assert.ok(Math.abs(x[i] - v / 255) < 1e-7, `pixel ${i}`));
    assert.deepEqual(
      [...x.subarray(16)].map((v) => Math.round(v * 255)),
      Array.from({ length: 16 }, (_, i) => i),
      'the right size is left as it is',
    );
    assert.deepEqual([...(dataset.y.data as BigInt64Array)], [0n, 1n]);
  });

  test('colour images become grey by luminance for one channel, RGB planes for three', () => {
    const rgba: DecodedImage = { width: 1, height: 1, channels: 4, data: Uint8Array.from([255, 0, 0, 255]) };
    const classes = [
      { name: 'red', images: [{ file: 'r.png', image: rgba }] },
      { name: 'other', images: [{ file: 'o.png', image: rgba }] },
    ];
    assert.ok(Math.abs((imageFolderDataset('c', classes, [1, 1, 1]).dataset.x.data as Float32Array)[0] - 0.299) < 1e-6);
    assert.deepEqual([...(imageFolderDataset('c', classes, [3, 1, 1]).dataset.x.data as Float32Array).subarray(0, 3)], [1, 0, 0]);
  });

  test('an empty class or a single class is a clear error', () => {
    assert.throws(
      () =>
        imageFolderDataset('d', [
          { name: 'a', images: [{ file: 'a.png', image: grey(1, 1, [0]) }] },
          { name: 'empty', images: [] },
        ]),
      /d: the class folder "empty" has no PNG or JPEG images/,
    );
    assert.throws(() => imageFolderDataset('d', [{ name: 'a', images: [{ file: 'a.png', image: grey(1, 1, [0]) }] }]), /one subfolder per class, at least two; found 1/);
  });
});
