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
  {
    // The renderer talks to an Engine; it never loads ONNX Runtime, Node or Electron itself.
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: 'electron', message: 'renderer/ reaches Electron through the preload bridge (window.netloom).' }, ...NODE_BUILTINS.map((name) => ({ name, message: 'renderer/ has no Node APIs.' }))],
          patterns: [
            { group: ['onnxruntime-*', 'node:*'], message: 'renderer/ reaches ONNX Runtime, files and the OS through the Platform and Engine interfaces.' },
            { group: ['**/cli/**', '**/engines/**', '**/electron/main*', '**/electron/preload*'], message: 'renderer/ must not import the CLI, the Node engine or the main process.' },
          ],
        },
      ],
    },
  },
  {
    files: ['electron/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/renderer/**'], message: 'electron/ talks to the window over IPC only.' }] }],
    },
  },
);
