// The live dashboard: stream the shop's metrics, draw them, reconnect with backoff and resume.
// WebSocket first; after two connections that never opened (a proxy that blocks them), or
// with ?transport=sse, Server-Sent Events. Every (re)connection asks /app/live/token for a
// fresh access token and resumes after the last seq it showed.
"use strict";
(() => {
  const root = document.getElementById("live");
  if (!root) return;
  const status = root.querySelector(".live-status");
  const alerts = root.querySelector(".live-alerts");
  const log = root.querySelector(".live-log");
  const SPARK_POINTS = 60;
  const LOG_LINES = 50;
  const MAX_DELAY_MS = 10000;
  const sparks = new Map();
  let transport = new URLSearchParams(location.search).get("transport") === "sse" ? "sse" : "ws";
  let lastSeq = null;
  let attempt = 0;
  let socketFailures = 0;

  function setStatus(state, text) {
    status.dataset.state = state;
    status.textContent = text;
  }

  function money(minor, currency) {
    let digits = 2;
    try {
      digits = new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits;
    } catch (_) { /* an unknown code: two digits */ }
    return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
  }

  function shown(series, value) {
    if (series === "revenue") {
      const parts = Object.keys(value).sort().map((currency) => money(value[currency], currency));
      return parts.length ? parts.join(" · ") : "0";
    }
    if (value === null) return "cleared";
    return typeof value === "object" ? JSON.stringify(value) : String(value);
  }

  function plot(series, value) {
    const number = typeof value === "number" ? value : Object.values(value).reduce((a, b) => a + b, 0);
    const points = sparks.get(series) || [];
    points.push(number);
    if (points.length > SPARK_POINTS) points.shift();
    sparks.set(series, points);
    const line = root.querySelector(`.live-tile[data-series="${series}"] polyline`);
    if (!line) return;
    const top = Math.max(...points, 1);
    const drawn = points.length > 1 ? points : [points[0], points[0]]; // one value: a flat line
    const step = 100 / (drawn.length - 1);
    line.setAttribute("points", drawn.map((p, i) => `${(i * step).toFixed(1)},${(30 - (p / top) * 28).toFixed(1)}`).join(" "));
  }

  function noAlerts() {
    const empty = document.createElement("li");
    empty.className = "empty";
    empty.textContent = "None.";
    alerts.replaceChildren(empty);
  }

  function alert(message) {
    const id = message.series.slice("stock_alert:".length);
    let item = alerts.querySelector(`[data-listing="${CSS.escape(id)}"]`);
    if (message.value === null) { // restocked: the alert is cleared
      item?.remove();
      if (!alerts.children.length) noAlerts();
      return;
    }
    alerts.querySelector(".empty")?.remove();
    if (!item) {
      item = document.createElement("li");
      item.dataset.listing = id;
      alerts.append(item);
    }
    item.textContent = `${message.value.title}: ${message.value.stock} left`;
  }

  function show(message) {
    if (message.series.startsWith("stock_alert:")) {
      alert(message);
    } else {
      const tile = root.querySelector(`.live-tile[data-series="${message.series}"] .live-value`);
      if (tile) tile.textContent = shown(message.series, message.value);
      plot(message.series, message.value);
    }
    const line = document.createElement("li");
    line.dataset.seq = message.seq;
    line.textContent = `#${message.seq} ${message.series} = ${shown(message.series, message.value)}`;
    log.prepend(line);
    while (log.children.length > LOG_LINES) log.lastElementChild.remove();
  }

  function receive(frame) {
    if (frame.type === "snapshot") {
      noAlerts(); // a snapshot holds every alert still raised, and only those
      frame.messages.forEach(show);
      lastSeq = frame.seq;
    } else if (lastSeq === null || frame.seq > lastSeq) {
      show(frame);
      lastSeq = frame.seq;
    }
    root.dataset.lastSeq = lastSeq;
  }

  function retry(reason) {
    const delay = Math.min(MAX_DELAY_MS, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    setStatus("reconnecting", `${reason}; reconnecting in ${Math.ceil(delay / 1000)} s`);
    setTimeout(connect, delay);
  }

  function connected(name) {
    attempt = 0;
    root.dataset.transport = name;
    setStatus("live", `Live (${name === "ws" ? "WebSocket" : "Server-Sent Events"})`);
  }

  function openSocket(token) {
    const url = new URL(root.dataset.wsPath, location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (lastSeq !== null) url.searchParams.set("after", lastSeq);
    const socket = new WebSocket(url, ["folio.live.v1", `bearer.${token}`]);
    let opened = false;
    socket.onopen = () => {
      opened = true;
      socketFailures = 0;
      connected("ws");
    };
    socket.onmessage = (event) => receive(JSON.parse(event.data));
    socket.onclose = (event) => {
      if (event.code === 4403) {
        setStatus("closed", "Only the shop's staff may watch it live");
        return;
      }
      if (!opened && (socketFailures += 1) >= 2) transport = "sse";
      retry(opened ? "Disconnected" : "Could not connect");
    };
  }

  function openEvents(token) {
    const url = new URL(root.dataset.ssePath, location.href);
    url.searchParams.set("access_token", token);
    if (lastSeq !== null) url.searchParams.set("after", lastSeq);
    const events = new EventSource(url);
    events.onopen = () => connected("sse");
    const onFrame = (event) => receive(JSON.parse(event.data));
    events.addEventListener("update", onFrame);
    events.addEventListener("snapshot", onFrame);
    events.onerror = () => {
      // Reconnect here rather than natively: the next connection needs a fresh token.
      events.close();
      retry("Disconnected");
    };
  }

  async function connect() {
    setStatus("connecting", "Connecting…");
    let token;
    try {
      const response = await fetch(root.dataset.tokenUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok || !(response.headers.get("Content-Type") || "").startsWith("application/json")) {
        throw new Error(`token: ${response.status}`);
      }
      token = (await response.json()).access_token;
    } catch (_) {
      retry("The server is not answering");
      return;
    }
    if (transport === "ws") openSocket(token);
    else openEvents(token);
  }

  connect();
})();
