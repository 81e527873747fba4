// Lint rules, including the layering rules of docs/ARCHITECTURE.md: every folder imports only downward.
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';

const NODE_BUILTINS = ['assert', 'buffer', 'child_process', 'crypto', 'events', 'fs', 'http', 'https', 'net', 'os', 'path', 'process', 'stream', 'url', 'util', 'worker_threads', 'zlib'];
const NODE_IMPORTS = ['node:*', ...NODE_BUILTINS, ...NODE_BUILTINS.map((m) => `${m}/*`)];

// core/'s folders, lowest first: a folder imports only from folders of a lower rank (and itself).
const CORE_RANKS = { graph: 0, engine: 0, onnx: 1, data: 1, layers: 2, autodiff: 2, shape: 3, convert: 4, train: 5, debug: 6 };

// The app's folders and what each may not import (core/ is importable from everywhere).
const APP_ARROWS = {
  common: ['renderer', 'electron', 'cli', 'engines', 'host'],
  host: ['renderer', 'electron', 'cli', 'engines', 'common'],
  engines: ['renderer', 'electron', 'cli', 'host', 'common'],
  cli: ['renderer', 'electron', 'common'],
  electron: ['renderer', 'cli'],
  renderer: ['electron', 'cli', 'host', 'engines/node'],
};
const folderPattern = (folder) => [`**/${folder}/**`, `../${folder}/**`, `../../${folder}/**`, `../../../${folder}/**`];

const corePlatformPatterns = [
  { group: NODE_IMPORTS, message: 'core/ must not use Node APIs; put I/O at the edges (cli/, electron/, host/).' },
  { group: ['electron', 'electron/*', 'react', 'react-dom', 'react/*', '@xyflow/*', 'onnxruntime-*'], message: 'core/ must not import UI, Electron or runtime packages.' },
  { group: ['**/electron/**', '**/renderer/**', '**/cli/**', '**/engines/**', '**/host/**', '**/common/**'], message: 'core/ imports nothing from the app around it.' },
];

const coreFolderConfigs = Object.entries(CORE_RANKS).map(([folder, rank]) => {
  const above = Object.entries(CORE_RANKS)
    .filter(([other, r]) => other !== folder && r >= rank)
    .map(([other]) => other);
  return {
    files: [`core/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...corePlatformPatterns,
            ...(above.length
              ? [{ group: above.map((o) => `../${o}/*`), message: `core/${folder} sits below ${above.map((o) => `core/${o}`).join(', ')}: import downward only (docs/ARCHITECTURE.md).` }]
              : []),
          ],
        },
      ],
    },
  };
});

const appFolderConfigs = Object.entries(APP_ARROWS).map(([folder, banned]) => ({
  files: [`${folder}/**/*.{ts,tsx,js}`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        ...(folder === 'renderer'
          ? {
              paths: [
                { name: 'electron', message: 'renderer/ reaches Electron through the preload bridge (window.netloom).' },
                ...NODE_BUILTINS.map((name) => ({ name, message: 'renderer/ has no Node APIs.' })),
              ],
            }
          : {}),
        patterns: [
          ...(folder === 'renderer'
            ? [{ group: ['onnxruntime-node', 'node:*'], message: 'renderer/ reaches files and the OS through the Platform interface, and ONNX Runtime through an Engine.' }]
            : []),
          ...(folder === 'common' ? [{ group: NODE_IMPORTS, message: 'common/ is read by the renderer too: no Node APIs.' }] : []),
          { group: banned.flatMap(folderPattern), message: `${folder}/ must not import ${banned.map((b) => `${b}/`).join(', ')} (docs/ARCHITECTURE.md).` },
        ],
      },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', '.cache/', 'test-results/', 'core/onnx/onnx-pb.js', 'core/onnx/onnx-pb.d.ts'] },
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
      'no-restricted-imports': ['error', { patterns: corePlatformPatterns }],
      'no-restricted-globals': [
        'error',
        ...['window', 'document', 'navigator', 'localStorage', 'process', 'require', 'Buffer', '__dirname', '__filename', 'global'].map((name) => ({
          name,
          message: 'core/ is platform-free: no DOM or Node globals.',
        })),
      ],
    },
  },
  ...coreFolderConfigs,
  ...appFolderConfigs,
  {
    files: ['renderer/**/*.tsx', 'renderer/**/*.ts'],
    plugins: { 'react-hooks': reactHooks },
    rules: { 'react-hooks/rules-of-hooks': 'error', 'react-hooks/exhaustive-deps': 'error' },
  },
);
