// Websocket helper: JSON messages, reconnect with backoff until closed by the caller.

/** Absolute ws:// URL for a server path. */
export function wsUrl(path) {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  return `${proto}://${location.host}${path}`;
}

/**
 * Open a JSON websocket. `path` is a string or a function returning one (called on every
 * (re)connect). Options: onMessage(msg), onOpen(), onClose(), reconnect (default true).
 * Returns {send(obj), close(), reconnect(), get open}.
 */
export function openSocket(path, { onMessage, onOpen, onClose, reconnect = true } = {}) {
  let ws = null;
  let closed = false;
  let delay = 500;
  let timer = null;

  function connect() {
    ws = new WebSocket(wsUrl(typeof path === "function" ? path() : path));
    ws.onopen = () => {
      delay = 500;
      onOpen?.();
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      onMessage?.(msg);
    };
    ws.onclose = () => {
      onClose?.();
      if (!closed && reconnect) {
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, 8000);
      }
    };
    ws.onerror = () => {};
  }
  connect();
  return {
    send(obj) {
      if (ws && ws.readyState === WebSocket.OPEN) {
        ws.send(JSON.stringify(obj));
        return true;
      }
      return false;
    },
    /** Drop this connection and open a new one now (a caller that noticed missed messages). */
    reconnect() {
      if (closed || !ws) return;
      clearTimeout(timer);
      ws.onclose = null;
      ws.onmessage = null;
      if (ws.readyState <= WebSocket.OPEN) ws.close();
      onClose?.();
      connect();
    },
    close() {
      closed = true;
      clearTimeout(timer);
      if (ws && ws.readyState <= WebSocket.OPEN) ws.close();
    },
    get open() {
      return !!ws && ws.readyState === WebSocket.OPEN;
    },
  };
}
