/**
 * The docked layout: palette | (canvas and main-dock tabs over the bottom dock) | inspector, every split
 * resizable by dragging and remembered between sessions (react-resizable-panels with localStorage).
 * Toggle Panels collapses the side and bottom docks; Reset Panel Layout restores the default sizes.
 */
import { forwardRef, useImperativeHandle, type ReactNode } from 'react';
import { Group, Panel, Separator, useDefaultLayout, useGroupRef, usePanelRef, type Layout } from 'react-resizable-panels';
import { PANELS, type PanelProps } from '../panels/registry.ts';
import { DockTabs } from './DockTabs.tsx';

const COLUMNS: Layout = { palette: 14, center: 64, inspector: 22 };
const ROWS: Layout = { work: 75, bottom: 25 };

export interface WorkbenchHandle {
  togglePanels(): void;
  resetLayout(): void;
}

interface Props {
  palette: ReactNode;
  canvas: ReactNode;
  inspector: ReactNode;
  panelProps: PanelProps;
}

export const Workbench = forwardRef<WorkbenchHandle, Props>(function Workbench({ palette, canvas, inspector, panelProps }, ref) {
  const columns = useDefaultLayout({ id: 'netloom.layout.columns', storage: localStorage });
  const rows = useDefaultLayout({ id: 'netloom.layout.rows', storage: localStorage });
  const columnsRef = useGroupRef();
  const rowsRef = useGroupRef();
  const side = [usePanelRef(), usePanelRef(), usePanelRef()];

  useImperativeHandle(ref, () => ({
    togglePanels() {
      const hide = side.some((p) => p.current && !p.current.isCollapsed());
      for (const p of side) {
        if (hide) p.current?.collapse();
        else p.current?.expand();
      }
    },
    resetLayout() {
      columnsRef.current?.setLayout(COLUMNS);
      rowsRef.current?.setLayout(ROWS);
    },
  }));

  return (
    <Group className="workbench" orientation="horizontal" id="columns" groupRef={columnsRef} defaultLayout={columns.defaultLayout ?? COLUMNS} onLayoutChanged={columns.onLayoutChanged}>
      <Panel id="palette" panelRef={side[0]} minSize="8" collapsible>
        {palette}
      </Panel>
      <Separator className="separator" aria-label="Resize the palette" />
      <Panel id="center" minSize="30">
        <Group orientation="vertical" id="rows" groupRef={rowsRef} defaultLayout={rows.defaultLayout ?? ROWS} onLayoutChanged={rows.onLayoutChanged}>
          <Panel id="work" minSize="20">
            <DockTabs
              label="Main views"
              storageKey="netloom.dock.main"
              panels={PANELS.filter((p) => p.dock === 'main')}
              props={panelProps}
              first={{ id: 'canvas', title: 'Canvas', content: canvas }}
            />
          </Panel>
          <Separator className="separator" aria-label="Resize the bottom panels" />
          <Panel id="bottom" panelRef={side[1]} minSize="8" collapsible>
            <DockTabs label="Panels" storageKey="netloom.dock.bottom" panels={PANELS.filter((p) => p.dock === 'bottom')} props={panelProps} />
          </Panel>
        </Group>
      </Panel>
      <Separator className="separator" aria-label="Resize the inspector" />
      <Panel id="inspector" panelRef={side[2]} minSize="12" collapsible>
        {inspector}
      </Panel>
    </Group>
  );
});
