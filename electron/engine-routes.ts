/**
 * The main process's switchboard between the windows and the engine's utility process. Each window
 * numbers its own requests; the engine sees one numbering, so each reply goes back to the window that
 * asked, under that window's number, and a window can pause or stop only its own training runs and use
 * only the sessions it opened. Every request is validated on arrival (common/ipc.ts). Pure logic,
 * without Electron, so that it is tested as it is.
 */
import { EngineRequest, IPC, validate } from '../common/ipc.ts';
import type { OpenedSession, WorkerReply, WorkerRequest } from '../engines/web/protocol.ts';

interface Route {
  windowId: number;
  /** The window's own number for the request. */
  id: number;
  op: WorkerRequest['op'];
}

export class EngineRoutes {
  private nextId = 1;
  /** Engine request number → who asked. */
  private readonly routes = new Map<number, Route>();
  /** A window's training runs: "<window>:<its number>" → the engine's number. */
  private readonly runs = new Map<string, number>();
  /** The sessions each window opened: "<window>:<session>". */
  private readonly sessions = new Set<string>();

  /**
   * A window's request: the message for the engine, or (for a malformed request) the error reply for the
   * window, in one line.
   */
  fromWindow(windowId: number, payload: unknown): { toEngine: WorkerRequest } | { toWindow: WorkerReply } {
    let request: WorkerRequest;
    try {
      request = validate(EngineRequest, payload, IPC.engineRequest);
    } catch (e) {
      const id = (payload as { id?: unknown } | null)?.id;
      return { toWindow: { id: typeof id === 'number' ? id : 0, error: (e as Error).message } };
    }
    if ('session' in request) {
      const key = `${windowId}:${request.session}`;
      if (!this.sessions.has(key)) return { toWindow: { id: request.id, error: `session ${request.session} is not open in this window` } };
      if (request.op === 'release') this.sessions.delete(key);
    }
    const id = this.nextId++;
    this.routes.set(id, { windowId, id: request.id, op: request.op });
    if (request.op === 'train') this.runs.set(`${windowId}:${request.id}`, id);
    // Another window's run, or one that has ended, is no run of this window's: the engine ignores number 0.
    if (request.op === 'control') return { toEngine: { ...request, id, run: this.runs.get(`${windowId}:${request.run}`) ?? 0 } };
    return { toEngine: { ...request, id } };
  }

  /** An engine reply: the window it goes to and the reply under that window's number; null when no window waits for it. */
  fromEngine(reply: WorkerReply): { windowId: number; reply: WorkerReply } | null {
    const route = this.routes.get(reply.id);
    if (!route) return null;
    if ('result' in reply || 'error' in reply) {
      this.routes.delete(reply.id);
      this.runs.delete(`${route.windowId}:${route.id}`);
    }
    if (route.op === 'open' && 'result' in reply) this.sessions.add(`${route.windowId}:${(reply.result as OpenedSession).session}`);
    return { windowId: route.windowId, reply: { ...reply, id: route.id } };
  }

  /** A window closed: nothing goes back to it, its training runs stop and its sessions close (the messages for the engine). */
  windowClosed(windowId: number): WorkerRequest[] {
    const stops: WorkerRequest[] = [];
    for (const [key, run] of this.runs)
      if (key.startsWith(`${windowId}:`)) {
        stops.push({ id: this.nextId++, op: 'control', run, action: 'stop' });
        this.runs.delete(key);
      }
    for (const key of this.sessions)
      if (key.startsWith(`${windowId}:`)) {
        stops.push({ id: this.nextId++, op: 'release', session: Number(key.slice(key.indexOf(':') + 1)) });
        this.sessions.delete(key);
      }
    for (const [id, route] of this.routes) if (route.windowId === windowId) this.routes.delete(id);
    return stops;
  }

  /** The engine process ended: every request still open fails, with the reason, to the window that made it. */
  engineStopped(why: string): { windowId: number; reply: WorkerReply }[] {
    const failed = [...this.routes.values()].map((route) => ({ windowId: route.windowId, reply: { id: route.id, error: why } }));
    this.routes.clear();
    this.runs.clear();
    this.sessions.clear();
    return failed;
  }
}
