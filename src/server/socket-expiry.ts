import type WebSocket from 'ws';

/**
 * Closes each socket when the token that opened it expires, with one timer per process rather
 * than one per socket: a timer and its closure cost a few hundred bytes, ten thousand open
 * dashboards a few megabytes, for deadlines that are hours away. Checked once a second, so a
 * socket outlives its token by at most that.
 */
export function createSocketExpiry(onExpired: (socket: WebSocket) => void, checkEveryMs = 1000) {
  const due = new Map<WebSocket, number>();
  let timer: NodeJS.Timeout | null = null;

  function check(): void {
    const now = Date.now();
    for (const [socket, at] of due) {
      if (at > now) continue;
      due.delete(socket);
      onExpired(socket);
    }
    if (!due.size && timer) {
      clearInterval(timer);
      timer = null;
    }
  }

  return {
    watch(socket: WebSocket, expiresAt: Date): void {
      due.set(socket, expiresAt.getTime());
      timer ??= setInterval(check, checkEveryMs).unref();
    },
    forget(socket: WebSocket): void {
      due.delete(socket);
    },
    stop(): void {
      due.clear();
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
