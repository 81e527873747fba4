/** One-line messages (errors, results) that fade after a few seconds or on a click. */
import { useCallback, useEffect, useState } from 'react';

export function useToast(): [string | null, (message: string) => void, () => void] {
  const [toast, setToast] = useState<string | null>(null);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 6000);
    return () => clearTimeout(t);
  }, [toast]);
  const say = useCallback((message: string) => setToast(message), []);
  return [toast, say, () => setToast(null)];
}

export function Toast({ message, onClose }: { message: string; onClose: () => void }) {
  return (
    <div className="toast" role="alert" onClick={onClose}>
      {message}
    </div>
  );
}
