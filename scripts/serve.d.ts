import type { Server } from 'node:http';

/** Serves `root` at http://127.0.0.1:port/ (port 0 picks a free one); a path that names no file gets index.html, or 404 with `fallback: false`. */
export function serve(root: string, port?: number, options?: { fallback?: boolean }): Promise<{ server: Server; url: string }>;
