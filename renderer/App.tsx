/** The window: menu bar, recovery banner, the docked workbench, status bar, dialogs. Commands live in commands.ts, panels in panels/registry.ts. */
import { ReactFlowProvider } from '@xyflow/react';
import { useEffect, useMemo, useRef, useState } from 'react';
import type { CommandId } from '../common/commands.ts';
import { Canvas } from './canvas/Canvas.tsx';
import { commandHandlers, runCommand, useShortcuts } from './commands.ts';
import { Inspector } from './panels/Inspector.tsx';
import { Palette } from './panels/Palette.tsx';
import { TemplatesDialog } from './panels/TemplatesDialog.tsx';
import type { Platform } from './platform/platform.ts';
import { MenuBar } from './shell/MenuBar.tsx';
import { MissingWeightsBanner } from './shell/MissingWeightsBanner.tsx';
import { RecoveryBanner, useAutosave } from './shell/RecoveryBanner.tsx';
import { StatusBar } from './shell/StatusBar.tsx';
import { TrainingBanner } from './shell/TrainingBanner.tsx';
import { useTheme } from './shell/theme.ts';
import { Toast, useToast } from './shell/Toast.tsx';
import { useFileDrop } from './shell/useFileDrop.ts';
import { Workbench, type WorkbenchHandle } from './shell/Workbench.tsx';
import type { EditorStore } from './state/store.ts';
import { TEMPLATES } from './templates.ts';
import { useEditor } from './useEditor.ts';
import { useWorkspace, type ShellActions } from './workspace.ts';

function Editor({ store, platform }: { store: EditorStore; platform: Platform }) {
  const state = useEditor(store);
  const [toast, say, dismiss] = useToast();
  const [templates, setTemplates] = useState(false);
  const [engine, setEngine] = useState('');
  const [theme, cycleTheme] = useTheme();
  const workbench = useRef<WorkbenchHandle>(null);

  const shell = useMemo<ShellActions>(
    () => ({
      say,
      showTemplates: () => setTemplates(true),
      togglePanels: () => workbench.current?.togglePanels(),
      resetLayout: () => workbench.current?.resetLayout(),
      cycleTheme,
    }),
    [say, cycleTheme],
  );
  const workspace = useWorkspace(store, platform, shell);
  const handlers = useMemo(() => commandHandlers(workspace), [workspace]);
  const run = (id: CommandId) => runCommand(handlers, id);
  useShortcuts(run);
  const runRef = useRef(run);
  useEffect(() => {
    runRef.current = run;
  });
  useEffect(() => platform.onCommand((c) => runRef.current(c)), [platform]);

  useAutosave(workspace, state.doc, state.fileName, state.dirty);
  useFileDrop(workspace);
  const { openFiles } = workspace;
  useEffect(() => {
    void platform.engineInfo().then(setEngine);
    void platform.takePendingDocument().then((files) => files && openFiles(files));
  }, [platform, openFiles]);
  useEffect(() => platform.setTitle(state.fileName ?? state.doc.name, state.dirty), [platform, state.fileName, state.doc.name, state.dirty]);

  return (
    <div className="app">
      {platform.kind === 'browser' && <MenuBar title={state.fileName ?? state.doc.name} dirty={state.dirty} run={run} onTemplates={shell.showTemplates} />}
      {/* One slot for every banner: those that show stack, none covers another. */}
      <div className="banners">
        <RecoveryBanner workspace={workspace} />
        <MissingWeightsBanner workspace={workspace} />
        <TrainingBanner state={state} />
      </div>
      <Workbench
        ref={workbench}
        palette={<Palette onAdd={(op) => workspace.addLayer(op)} />}
        canvas={<Canvas store={store} state={state} onProblem={say} onDropLayer={workspace.addLayer} />}
        inspector={<Inspector store={store} state={state} />}
        panelProps={{ workspace, state }}
      />
      <StatusBar state={state} engine={engine} theme={theme} />
      {toast && <Toast message={toast} onClose={dismiss} />}
      {templates && (
        <TemplatesDialog
          onClose={() => setTemplates(false)}
          onPick={(id) => {
            setTemplates(false);
            if (workspace.confirmDiscard()) void workspace.openDocument(structuredClone(TEMPLATES.find((t) => t.id === id)!.doc), null);
          }}
        />
      )}
    </div>
  );
}

export function App({ store, platform }: { store: EditorStore; platform: Platform }) {
  return (
    <ReactFlowProvider>
      <Editor store={store} platform={platform} />
    </ReactFlowProvider>
  );
}
