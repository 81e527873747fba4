/** The one provider picker of the Run and Train panels: every provider of the window's engine, with why it cannot run here when it cannot. */
import { useEffect, useState } from 'react';
import type { Provider } from '../../core/engine/engine.ts';
import type { ProviderStatus } from '../../engines/web/client.ts';
import { windowEngine } from './engine.ts';

let statuses: Promise<ProviderStatus[]> | null = null;

export function ProviderPicker({ value, onChange }: { value: Provider; onChange: (p: Provider) => void }) {
  const [list, setList] = useState<ProviderStatus[] | null>(null);
  useEffect(() => {
    statuses ??= windowEngine().providers();
    void statuses.then(setList);
  }, []);
  const chosen = list?.find((s) => s.provider === value);
  const unavailable = list?.filter((s) => !s.available) ?? [];
  return (
    <>
      <label className="field-inline">
        Provider
        <select aria-label="Provider" value={value} onChange={(e) => onChange(e.target.value as Provider)}>
          {(list ?? [{ provider: value, available: true, detail: '' }]).map((s) => (
            <option key={s.provider} value={s.provider} disabled={!s.available}>
              {s.provider}
              {s.available ? '' : ' (unavailable)'}
            </option>
          ))}
        </select>
        {chosen && <span className="muted">{chosen.detail}</span>}
      </label>
      {/* Why the others cannot run here: folded, since the reasons are long (the desktop has four providers). */}
      {unavailable.length > 0 && (
        <details className="provider-reasons muted">
          <summary>Not available here: {unavailable.map((s) => s.provider).join(', ')}</summary>
          <ul>
            {unavailable.map((s) => (
              <li key={s.provider}>
                {s.provider}: {s.detail}
              </li>
            ))}
          </ul>
        </details>
      )}
    </>
  );
}
