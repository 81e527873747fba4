// Lint rules, including the layering rule from DESIGN.md: core/ is platform-free.
import tseslint from 'typescript-eslint';

const NODE_BUILTINS = ['assert', 'buffer', 'child_process', 'crypto', 'events', 'fs', 'http', 'https', 'net', 'os', 'path', 'process', 'stream', 'url', 'util', 'worker_threads', 'zlib'];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'test-results/', 'core/onnx/onnx-pb.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // core/ runs in the main process, workers, the renderer and the CLI: no DOM, no Node, no UI.
    files: ['core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', ...NODE_BUILTINS, ...NODE_BUILTINS.map((m) => `${m}/*`)], message: 'core/ must not use Node APIs; put I/O at the edges (cli/, electron/).' },
            { group: ['electron', 'electron/*', 'react', 'react-dom', 'react/*', '@xyflow/*', 'onnxruntime-*'], message: 'core/ must not import UI, Electron or runtime packages.' },
            { group: ['**/electron/**', '**/renderer/**', '**/cli/**', '../../electron*', '../../renderer*', '../../cli*'], message: 'core/ imports nothing from electron/, renderer/ or cli/.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'process', 'require', 'Buffer', '__dirname', '__filename', 'global'].map((name) => ({ name, message: 'core/ is platform-free: no DOM or Node globals.' })),
      ],
    },
  },
);
