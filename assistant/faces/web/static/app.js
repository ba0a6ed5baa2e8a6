// The assistant's page: reads the JSON API, follows /api/events (Server-Sent Events).
// Every text from the assistant or the user goes into the page as text (never as HTML).
"use strict";

const turns = new Map();   // key -> turn view
const images = new Map();  // id -> gallery item (or a placeholder while drawing)
let statsTimer = null;

const $ = (id) => document.getElementById(id);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "dataset") Object.assign(node.dataset, v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)};
  const response = await fetch(path, options);
  let data = null;
  try { data = await response.json(); } catch (e) { data = null; }
  if (!response.ok) throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
  return data;
}

const hangul = /[\uac00-\ud7a3\u3131-\u318e]/;
function langOf(text, given) { return given || (hangul.test(text || "") ? "ko" : "en"); }
function seconds(v) { return typeof v === "number" ? `${v.toFixed(2)} s` : "–"; }
function clock(t) {
  const d = typeof t === "number" ? new Date(t * 1000) : new Date(t);
  return isNaN(d) ? "" : d.toLocaleTimeString([], {hour: "2-digit", minute: "2-digit", second: "2-digit"});
}

// ------------------------------------------------------------------ now
function showNow(now) {
  $("now").dataset.state = now.state || "listening";
  $("state").textContent = now.state || "listening";
  if (now.text !== undefined) {
    $("now-text").textContent = now.text || "";
    $("now-text").lang = langOf(now.text);
  }
  if (typeof now.db === "number") $("level").value = Math.max(-80, Math.min(0, now.db));
}

// ------------------------------------------------------------------ conversation
const STAGES = [["stt", "hearing"], ["route", "routing"], ["reply_first_audio", "reply"], ["eos_to_first_audio", "end of speech → audio"]];

function turnNode(t) {
  const heard = t.text ? el("p", {class: "heard", lang: langOf(t.text, t.language)}, t.text)
                       : el("p", {class: "heard muted"}, t.result === "pending" ? "…" : "(nothing heard)");
  const badges = el("div", {class: "badges"},
    el("span", {class: "num"}, `#${t.turn}`),
    el("time", {}, clock(t.time)),
    t.typed ? el("span", {class: "badge"}, "typed") : null,
    t.language ? el("span", {class: "badge"}, t.language) : null,
    t.intent ? el("span", {class: "badge intent"}, t.intent) : null,
    el("span", {class: `badge result ${t.result}`}, t.result));
  const reason = t.reason ? el("p", {class: "reason"}, t.reason) : null;
  const replies = el("ul", {class: "replies"}, (t.replies || []).map((r) =>
    el("li", {lang: langOf(r.text, r.language), class: r.kind || "reply"},
      r.audio ? el("button", {type: "button", class: "play", dataset: {src: r.audio}, "aria-label": "play reply"}, "▶") : null,
      el("span", {}, r.text))));
  const timing = STAGES.filter(([k]) => typeof (t.timings || {})[k] === "number")
    .map(([k, label]) => `${label} ${seconds(t.timings[k])}`).join(" · ");
  return el("li", {class: `turn ${t.result}`, dataset: {key: t.key}}, badges, heard, reason, replies,
    timing ? el("p", {class: "timing small muted"}, timing) : null);
}

function upsertTurn(t) {
  turns.set(t.key, t);
  const list = $("turns");
  const node = turnNode(t);
  const old = list.querySelector(`li[data-key="${CSS.escape(t.key)}"]`);
  if (old) old.replaceWith(node); else list.prepend(node);
  while (list.children.length > 300) list.lastElementChild.remove();
  $("turns-empty").hidden = turns.size > 0;
}

$("turns").addEventListener("click", (e) => {
  const button = e.target.closest("button.play");
  if (!button) return;
  const audio = new Audio(button.dataset.src);
  button.disabled = true;
  audio.addEventListener("ended", () => { button.disabled = false; });
  audio.play().catch(() => { button.disabled = false; });
});

// ------------------------------------------------------------------ gallery
function overlay(mask) {  // the edited area as boxes over the picture (fractions of its size)
  if (!mask || !Array.isArray(mask.boxes)) return null;
  return mask.boxes.map(([x0, y0, x1, y1]) => {
    const box = el("div", {class: "mask", title: `edited: ${mask.region}`});
    box.style.left = `${x0 * 100}%`; box.style.top = `${y0 * 100}%`;
    box.style.width = `${(x1 - x0) * 100}%`; box.style.height = `${(y1 - y0) * 100}%`;
    return box;
  });
}

function imageNode(item) {
  if (item.pending) {
    const p = item.progress || {};
    const bar = (typeof p.step === "number" && typeof p.of === "number" && p.of > 0)
      ? el("progress", {max: p.of, value: p.step}) : el("progress", {});
    const status = item.failed ? `failed: ${item.failed}` : (p.message || "drawing…");
    return el("figure", {class: item.failed ? "tile pending failed" : "tile pending", dataset: {id: item.id, started: item.started}},
      el("div", {class: "placeholder"}, item.failed ? null : bar, el("span", {class: "elapsed"}, "")),
      el("figcaption", {},
        el("span", {class: "prompt", lang: langOf(item.prompt)}, item.prompt),
        el("span", {class: "meta"}, `${item.kind} · ${status}`)));
  }
  const picture = el("a", {href: item.url, target: "_blank", rel: "noopener", class: "frame"},
    el("img", {src: item.url, alt: item.prompt || item.id, loading: "lazy"}),
    item.kind === "edit" && !item.source_url ? overlay(item.mask) : null);  // the region on the original, else here
  const original = item.source_url ? el("a", {href: item.source_url, target: "_blank", rel: "noopener", class: "original frame", title: "original"},
    el("img", {src: item.source_url, alt: "original", loading: "lazy"}), overlay(item.mask)) : null;
  const meta = [item.model, item.size, clock(item.time)].filter(Boolean).join(" · ");
  return el("figure", {class: `tile ${item.kind}`, dataset: {id: item.id}},
    original ? el("div", {class: "edit-pair"}, original, el("span", {class: "arrow"}, "→"), picture) : picture,
    el("figcaption", {},
      el("span", {class: "prompt", lang: langOf(item.prompt)}, item.prompt || "(no prompt)"),
      el("span", {class: "meta"}, item.kind !== "draw" ? `${item.kind}${item.mask ? " (" + item.mask.region + ")" : ""} · ${meta}` : meta)));
}

function upsertImage(item) {
  const gallery = $("gallery");
  if (item.replaces) {
    images.delete(item.replaces);
    const gone = gallery.querySelector(`[data-id="${CSS.escape(item.replaces)}"]`);
    if (gone) gone.remove();
  }
  if (item.url === null && !item.pending) return;  // saved outside the store: not shown
  images.set(item.id, item);
  const node = imageNode(item);
  const old = gallery.querySelector(`[data-id="${CSS.escape(item.id)}"]`);
  if (old) old.replaceWith(node); else gallery.prepend(node);
  $("gallery-empty").hidden = images.size > 0;
}

setInterval(() => {  // elapsed time on placeholders
  for (const tile of document.querySelectorAll(".tile.pending:not(.failed)")) {
    const started = parseFloat(tile.dataset.started);
    if (started) tile.querySelector(".elapsed").textContent = `${Math.max(0, Date.now() / 1000 - started).toFixed(0)} s`;
  }
}, 1000);

// ------------------------------------------------------------------ latency
function showStats(stats) {
  const body = $("stages").tBodies[0];
  body.replaceChildren(...stats.stages.map((s) =>
    el("tr", {}, el("td", {}, s.stage), el("td", {}, s.n), el("td", {}, seconds(s.p50)), el("td", {}, seconds(s.p95)))));
  const svg = $("plot");
  const ns = "http://www.w3.org/2000/svg";
  const mk = (tag, attrs) => { const n = document.createElementNS(ns, tag); for (const [k, v] of Object.entries(attrs)) n.setAttribute(k, v); return n; };
  svg.replaceChildren();
  const pts = stats.points.slice(-60);
  const W = 320, H = 140, L = 34, B = 18;
  const top = Math.max(1, ...pts.map((p) => p.seconds)) * 1.1;
  svg.append(mk("line", {x1: L, y1: H - B, x2: W - 4, y2: H - B, class: "axis"}), mk("line", {x1: L, y1: 4, x2: L, y2: H - B, class: "axis"}));
  for (const v of [0, top / 2, top]) {
    const y = H - B - (v / top) * (H - B - 6);
    const label = mk("text", {x: L - 4, y: y + 4, class: "tick", "text-anchor": "end"});
    label.textContent = `${v.toFixed(1)}s`;
    svg.append(label);
  }
  if (!pts.length) {
    const t = mk("text", {x: W / 2, y: H / 2, class: "tick", "text-anchor": "middle"});
    t.textContent = "no replies timed yet";
    svg.append(t);
    return;
  }
  const x = (i) => L + 6 + (pts.length === 1 ? 0 : (i / (pts.length - 1)) * (W - L - 16));
  const y = (v) => H - B - (v / top) * (H - B - 6);
  const spoken = pts.map((p, i) => [p, i]).filter(([p]) => !p.typed);
  if (spoken.length > 1) svg.append(mk("polyline", {points: spoken.map(([p, i]) => `${x(i)},${y(p.seconds)}`).join(" "), class: "line"}));
  pts.forEach((p, i) => {
    const dot = mk("circle", {cx: x(i), cy: y(p.seconds), r: 3.5, class: p.typed ? "dot typed" : "dot"});
    const tip = mk("title", {});
    tip.textContent = `turn ${p.turn}${p.typed ? " (typed: command → first audio)" : ""}: ${p.seconds.toFixed(2)} s`;
    dot.append(tip); svg.append(dot);
  });
}

function refreshStats() {  // at most one request in flight per burst of finished turns
  if (statsTimer) return;
  statsTimer = setTimeout(() => {
    statsTimer = null;
    api("/api/stats").then(showStats).catch(() => {});
  }, 250);
}

// ------------------------------------------------------------------ settings
function showSettings(s) {
  const form = $("settings");
  const voice = form.elements.voice;
  if (voice.options.length !== s.choices.voice.length) voice.replaceChildren(...s.choices.voice.map((v) => el("option", {value: v}, v)));
  voice.value = s.voice;
  form.elements.speed.min = s.choices.speed[0]; form.elements.speed.max = s.choices.speed[1];
  form.elements.speed.value = s.speed;
  $("speed-out").textContent = `${s.speed}×`;
  form.elements.reply_language.value = s.reply_language;
  form.elements.translate.checked = s.translate;
}

$("settings").addEventListener("input", (e) => {
  if (e.target.name === "speed") $("speed-out").textContent = `${e.target.value}×`;
});
$("settings").addEventListener("change", async (e) => {
  const f = e.target;
  const value = f.type === "checkbox" ? f.checked : f.name === "speed" ? parseFloat(f.value) : f.value;
  try {
    showSettings(await api("/api/settings", {[f.name]: value}));
    $("settings-status").textContent = "saved for this session";
  } catch (err) {
    $("settings-status").textContent = err.message;
    api("/api/settings").then(showSettings).catch(() => {});
  }
});

// ------------------------------------------------------------------ typing
$("ask").addEventListener("submit", async (e) => {
  e.preventDefault();
  const input = $("ask-text");
  const text = input.value.trim();
  if (!text) return;
  $("ask-status").textContent = "sending…";
  try {
    const answer = await api("/api/ask", {text});
    $("ask-status").textContent = `turn #${answer.turn}`;
    input.value = "";
  } catch (err) {
    $("ask-status").textContent = err.message;
  }
});

// ------------------------------------------------------------------ live updates
function connect(after) {
  const source = new EventSource(`/api/events?after=${after}`);
  const link = $("link");
  source.onopen = () => { link.dataset.up = "true"; link.textContent = "live"; };
  source.onerror = () => { link.dataset.up = "false"; link.textContent = "reconnecting"; };
  const on = (name, fn) => source.addEventListener(name, (e) => { try { fn(JSON.parse(e.data)); } catch (err) { console.error(err); } });
  on("turn", (t) => { upsertTurn(t); if (t.finished) refreshStats(); });
  on("image", upsertImage);
  on("now", showNow);
  on("level", (l) => showNow({state: $("now").dataset.state, db: l.db}));
  on("settings", showSettings);
  on("notice", (n) => { const p = $("notice"); p.textContent = n.text; p.hidden = !n.text; });
}

async function start() {
  try {
    const [t, g, s, st] = await Promise.all([api("/api/turns"), api("/api/images"), api("/api/settings"), api("/api/stats")]);
    showNow(t.now);
    t.turns.forEach(upsertTurn);
    $("turns-empty").hidden = turns.size > 0;
    g.images.slice().reverse().forEach(upsertImage);
    g.pending.forEach(upsertImage);
    $("gallery-empty").hidden = images.size > 0;
    showSettings(s);
    showStats(st);
    connect(Math.min(t.seq, g.seq));
  } catch (err) {
    $("ask-status").textContent = `cannot reach the assistant: ${err.message}`;
    setTimeout(start, 3000);
  }
}
start();
