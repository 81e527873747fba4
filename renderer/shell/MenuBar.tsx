/** Browser mode's menu bar, built from the same command table as the desktop's native menu. */
import { useState } from 'react';
import { MENUS, type CommandId } from '../../common/commands.ts';

interface Props {
  title: string;
  dirty: boolean;
  run: (command: CommandId) => void;
  onTemplates: () => void;
}

export function MenuBar({ title, dirty, run, onTemplates }: Props) {
  const [open, setOpen] = useState<string | null>(null);
  return (
    <header className="menubar" role="menubar" aria-label="Menu">
      {MENUS.map((menu) => (
        <div key={menu.label} className="menu">
          <button type="button" role="menuitem" aria-haspopup="true" aria-expanded={open === menu.label} onClick={() => setOpen(open === menu.label ? null : menu.label)}>
            {menu.label}
          </button>
          {open === menu.label && (
            <div role="menu" className="menu-list" aria-label={menu.label}>
              {menu.items.map((item, i) =>
                item === 'separator' ? (
                  <hr key={i} />
                ) : (
                  <button
                    key={item.command}
                    type="button"
                    role="menuitem"
                    onClick={() => {
                      setOpen(null);
                      run(item.command);
                    }}
                  >
                    <span>{item.label}</span>
                    {item.accelerator && <kbd>{item.accelerator.replace('CmdOrCtrl', 'Ctrl')}</kbd>}
                  </button>
                ),
              )}
            </div>
          )}
        </div>
      ))}
      <button type="button" className="templates-button" onClick={onTemplates}>
        Templates
      </button>
      <span className="title">
        {title}
        {dirty ? ' •' : ''}
      </span>
    </header>
  );
}
