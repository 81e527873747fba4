import '@xyflow/react/dist/style.css';
import './styles.css';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { warmLayout } from './canvas/layout.ts';
import { browserPlatform } from './platform/browser.ts';
import { desktopPlatform } from './platform/desktop.ts';
import { EditorStore } from './state/store.ts';

const platform = window.netloom ? desktopPlatform(window.netloom) : browserPlatform;
const store = new EditorStore();
createRoot(document.getElementById('root')!).render(<App store={store} platform={platform} />);
// Once the editor is up and the page is idle: opening a model should not wait for ELK to load.
requestIdleCallback(warmLayout, { timeout: 2000 });
