import type { Server } from 'node:http';

/** Serves `root` at http://127.0.0.1:port/ (port 0 picks a free one). */
export function serve(root: string, port?: number): Promise<{ server: Server; url: string }>;
