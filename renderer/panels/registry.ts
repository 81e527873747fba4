/**
 * The panels of the workbench, in one place. A panel names its dock ('bottom' under the canvas, or 'main'
 * as a tab beside the canvas), its tab title, and how it renders from the workspace and the editor state.
 * Adding a panel (Train, Run, Debug, Code…) means adding one entry here.
 */
import { createElement, type ReactNode } from 'react';
import type { EditorState } from '../state/store.ts';
import type { Workspace } from '../workspace.ts';
import { DebugPanel } from './DebugPanel.tsx';
import { Problems } from './Problems.tsx';
import { Summary } from './Summary.tsx';
import { TrainPanel } from './TrainPanel.tsx';
import { RunPanel } from '../run/RunPanel.tsx';

export type Dock = 'main' | 'bottom';

export interface PanelProps {
  workspace: Workspace;
  state: EditorState;
}

export interface PanelSpec {
  id: string;
  dock: Dock;
  /** The tab's text (its accessible name too). */
  title(state: EditorState): string;
  render(props: PanelProps): ReactNode;
}

export const PANELS: PanelSpec[] = [
  {
    id: 'problems',
    dock: 'bottom',
    title: (state) => `Problems (${state.inferred.diagnostics.length})`,
    render: ({ workspace, state }) => createElement(Problems, { diagnostics: state.inferred.diagnostics, onPick: workspace.pick }),
  },
  {
    id: 'summary',
    dock: 'bottom',
    title: () => 'Summary',
    render: ({ workspace, state }) => createElement(Summary, { summary: state.inferred.summary, onPick: workspace.pick }),
  },
  {
    id: 'train',
    dock: 'bottom',
    title: () => 'Train',
    render: ({ workspace, state }) => createElement(TrainPanel, { workspace, state }),
  },
  { id: 'run', dock: 'bottom', title: () => 'Run', render: (props) => createElement(RunPanel, props) },
  {
    id: 'debug',
    dock: 'bottom',
    title: () => 'Debug',
    render: (props) => createElement(DebugPanel, props),
  },
];
