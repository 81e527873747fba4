/** The colour theme: the OS's until the person picks light or dark; remembered. */
import { useEffect, useState } from 'react';

export type Theme = 'system' | 'light' | 'dark';

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(() => (localStorage.getItem('netloom.theme') as Theme | null) ?? 'system');
  useEffect(() => {
    const media = window.matchMedia('(prefers-color-scheme: dark)');
    const apply = () => (document.documentElement.dataset.theme = theme === 'system' ? (media.matches ? 'dark' : 'light') : theme);
    apply();
    media.addEventListener('change', apply);
    localStorage.setItem('netloom.theme', theme);
    return () => media.removeEventListener('change', apply);
  }, [theme]);
  return [theme, () => setTheme((t) => (t === 'system' ? 'light' : t === 'light' ? 'dark' : 'system'))];
}
