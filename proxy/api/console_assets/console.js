// Bedside console: live conversations (server-sent events over fetch, so the key travels in a
// header, never in a URL) and the KPI panels (GET /v1/kpis). Data is only ever put in the page as
// text (textContent), never as HTML. The key stays in this tab's sessionStorage.
"use strict";

const KEY_STORE = "bedside-console-key";
const COLOURS = {frustration: "#cf222e", anger: "#a40e26", anxiety: "#bc4c00", sadness: "#6639ba", confusion: "#9a6700",
  neutral: "#8c959f", joy: "#1a7f37", gratitude: "#116329"};
const live = new Map();
let key = sessionStorage.getItem(KEY_STORE) || "";
let openMode = false;

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "class") node.className = value; else node.setAttribute(name, value);
  }
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return node;
}

function svgEl(tag, attrs) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

function headers() {
  return key ? {"Authorization": "Bearer " + key} : {};
}

function pct(v) { return v === null || v === undefined ? "–" : (100 * v).toFixed(1) + "%"; }
function num(v, d = 2) { return v === null || v === undefined ? "–" : Number(v).toFixed(d); }

// ---- live conversations ----------------------------------------------------------------------

function sparkline(trajectory) {
  const w = 150, h = 30, n = Math.max(trajectory.length, 1), step = w / n;
  const svg = svgEl("svg", {width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "spark", role: "img"});
  const labels = [];
  trajectory.forEach((t, i) => {
    const bh = Math.max(2, t.intensity * (h - 2));
    svg.append(svgEl("rect", {x: i * step + 1, y: h - bh, width: Math.max(2, step - 2), height: bh, fill: COLOURS[t.label] || "#8c959f", opacity: 0.55}));
    labels.push(`${t.label} ${Math.round(t.intensity * 100)}%`);
  });
  if (trajectory.length > 1) {
    const points = trajectory.map((t, i) => `${(i + 0.5) * step},${h - 1 - t.frustration * (h - 2)}`).join(" ");
    svg.append(svgEl("polyline", {points, fill: "none", stroke: "#1b1f24", "stroke-width": 1.5}));
  }
  const last = trajectory[trajectory.length - 1];
  const summary = last ? `Turns: ${labels.join(", ")}. Frustration now ${Math.round(last.frustration * 100)}%.` : "No reading";
  svg.setAttribute("aria-label", summary);
  const title = svgEl("title", {});
  title.textContent = summary;
  svg.append(title);
  return svg;
}

function badges(items, cls) {
  const span = el("span");
  for (const item of items) span.append(el("span", {class: "badge " + (cls ? cls(item) : "")}, item));
  return span;
}

function row(c) {
  const last = c.trajectory.length ? c.trajectory[c.trajectory.length - 1] : null;
  const tr = el("tr", {"data-conversation": c.id, class: "fresh"},
    el("td", {}, el("code", {}, c.id)),
    el("td", {}, `${c.policy} @${c.version.slice(0, 8)}`),
    el("td", {class: "num"}, c.turns),
    el("td", {class: "reading"}, sparkline(c.trajectory), " ", last ? `${last.label} · frustration ${num(last.frustration)}` : "–"),
    el("td", {}, badges(c.events.map((e) => `${e.kind} (turn ${e.turn})`), () => "bad")),
    el("td", {}, badges(c.tone_rules)),
    el("td", {}, badges(c.last_rails || [], (r) => (/pass$/.test(r) ? "good" : "bad"))),
    el("td", {}, c.handoff ? el("span", {class: "badge bad"}, "handed off") : (c.escalated ? el("span", {class: "badge"}, "offered") : "–")));
  return tr;
}

function renderLive() {
  const body = document.getElementById("live-body");
  const sorted = [...live.values()].sort((a, b) => b.updated - a.updated);
  body.replaceChildren(...(sorted.length ? sorted.map(row) : [el("tr", {class: "empty"}, el("td", {colspan: 8}, "No conversation yet. They appear here as requests finish."))]));
}

function onEvent(type, data) {
  if (type === "snapshot") {
    live.clear();
    for (const c of data.conversations) live.set(c.id, c);
    renderLive();
  } else if (type === "conversation") {
    live.set(data.conversation.id, data.conversation);
    renderLive();
  }
}

async function connect() {
  const state = document.getElementById("live-state");
  for (let delay = 1000; ; delay = Math.min(delay * 2, 15000)) {
    try {
      const res = await fetch("/console/events", {headers: headers(), cache: "no-store"});
      if (res.status === 401 || res.status === 403) return signedOut(res);
      if (!res.ok) throw new Error("HTTP " + res.status);
      state.textContent = "live";
      delay = 1000;
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const {value, done} = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, {stream: true});
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          let type = "message", data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) type = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) onEvent(type, JSON.parse(data));
        }
      }
    } catch (err) {
      // reconnect below
    }
    state.textContent = "reconnecting…";
    await new Promise((r) => setTimeout(r, delay));
  }
}

// ---- KPIs ------------------------------------------------------------------------------------

function card(label, value) {
  return el("div", {class: "card"}, el("div", {class: "label"}, label), el("div", {class: "value"}, value));
}

function kpiTable(groups) {
  const head = ["Group", "Conversations", "Median turns", "Returning users", "Mean sentiment shift", "Frustration fell", "Frustration rose",
    "Perception /100 turns", "Handoff rate", "Resolution rate", "CSAT", "Shift–CSAT r"];
  const table = el("table", {}, el("caption", {class: "visually-hidden"}, "KPIs per group"),
    el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {scope: "col"}, h)))));
  const body = el("tbody");
  for (const g of groups) {
    body.append(el("tr", {},
      el("th", {scope: "row"}, g.key), el("td", {class: "num"}, g.conversations), el("td", {class: "num"}, num(g.median_turns, 1)),
      el("td", {class: "num"}, `${g.returning_users} of ${g.users}`), el("td", {class: "num"}, num(g.sentiment_shift.mean)),
      el("td", {class: "num"}, pct(g.frustration.fell)), el("td", {class: "num"}, pct(g.frustration.rose)),
      el("td", {class: "num"}, num(g.perception_per_100_turns.total, 1)), el("td", {class: "num"}, pct(g.handoff_rate)),
      el("td", {class: "num"}, pct(g.resolution_rate)), el("td", {class: "num"}, pct(g.csat)), el("td", {class: "num"}, num(g.sentiment_csat_correlation))));
  }
  table.append(body);
  return table;
}

function fillVersions(groups) {
  const versions = groups.map((g) => g.key);
  for (const [id, pick] of [["compare-a", 0], ["compare-b", 1]]) {
    const select = document.getElementById(id);
    const before = select.value;
    select.replaceChildren(...versions.map((v) => el("option", {value: v}, v)));
    if (versions.includes(before)) select.value = before; else if (versions[pick]) select.value = versions[pick];
  }
}

async function getKpis(params) {
  const res = await fetch("/v1/kpis?" + new URLSearchParams(params), {headers: headers(), cache: "no-store"});
  const body = await res.json();
  if (res.status === 401 || res.status === 403) { signedOut(res); throw new Error(body.error.message); }
  if (!res.ok) throw new Error(body.error ? body.error.message : "HTTP " + res.status);
  return body;
}

async function loadKpis(event) {
  if (event) event.preventDefault();
  const error = document.getElementById("kpi-error");
  error.textContent = "";
  try {
    const since = document.getElementById("kpi-since").value;
    const body = await getKpis({since, group_by: document.getElementById("kpi-group").value});
    const t = body.total;
    document.getElementById("kpi-cards").replaceChildren(
      card("Conversations", t.conversations), card("CSAT (4-5 of 5)", pct(t.csat)), card("Resolution rate", pct(t.resolution_rate)),
      card("Handoff rate", pct(t.handoff_rate)), card("Frustration fell", pct(t.frustration.fell)), card("Frustration rose", pct(t.frustration.rose)),
      card("Perception events /100 turns", num(t.perception_per_100_turns.total, 1)), card("Returning users", `${t.returning_users} of ${t.users}`),
      card("Median turns", num(t.median_turns, 1)), card("Mean sentiment shift", num(t.sentiment_shift.mean)));
    document.getElementById("kpi-groups").replaceChildren(body.groups.length ? kpiTable(body.groups) : el("p", {}, "No conversations started in this period."));
    const versions = body.group_by === "policy_version" ? body.groups : (await getKpis({since, group_by: "policy_version"})).groups;
    fillVersions(versions);
  } catch (err) {
    error.textContent = "Could not load the KPIs: " + err.message;
  }
}

async function compare(event) {
  event.preventDefault();
  const out = document.getElementById("compare-result");
  const a = document.getElementById("compare-a").value, b = document.getElementById("compare-b").value;
  if (!a || !b) { out.replaceChildren(el("p", {}, "Load the KPIs first: the versions come from them.")); return; }
  try {
    const body = await getKpis({since: document.getElementById("kpi-since").value, compare: `${a},${b}`});
    const c = body.comparison;
    const table = el("table", {}, el("caption", {}, `${c.candidate} minus ${c.baseline}: ${c.conversations[0]} and ${c.conversations[1]} conversations, ${Math.round(c.level * 100)}% bootstrap interval`),
      el("thead", {}, el("tr", {}, ...["KPI", "Baseline", "Candidate", "Difference", "Interval", "Clear difference?"].map((h) => el("th", {scope: "col"}, h)))));
    const tbody = el("tbody");
    for (const [name, m] of Object.entries(c.metrics)) {
      const interval = m.ci ? `${m.ci[0].toFixed(3)} to ${m.ci[1].toFixed(3)}` : "not enough data";
      tbody.append(el("tr", {}, el("th", {scope: "row"}, name.replaceAll("_", " ")), el("td", {class: "num"}, num(m.baseline, 3)), el("td", {class: "num"}, num(m.candidate, 3)),
        el("td", {class: "num"}, m.difference === null ? "–" : (m.difference >= 0 ? "+" : "") + m.difference.toFixed(3)), el("td", {}, interval),
        el("td", {}, m.significant ? el("span", {class: "badge good"}, "yes") : el("span", {class: "badge"}, "no"))));
    }
    table.append(tbody);
    out.replaceChildren(table);
  } catch (err) {
    out.replaceChildren(el("p", {class: "error"}, "Could not compare: " + err.message));
  }
}

// ---- sign-in ---------------------------------------------------------------------------------

function signedOut(res) {
  sessionStorage.removeItem(KEY_STORE);
  key = "";
  document.getElementById("main").hidden = true;
  document.getElementById("key-panel").hidden = false;
  document.getElementById("key-error").textContent = res && res.status === 403
    ? "This key may not open the console: it needs the 'admin' scope (bedside keys create --tenant NAME --scopes admin)."
    : "This key was not accepted. Check it and try again.";
  document.getElementById("key-input").focus();
}

function start() {
  document.getElementById("key-panel").hidden = true;
  document.getElementById("main").hidden = false;
  connect();
  loadKpis();
}

async function init() {
  document.getElementById("kpi-form").addEventListener("submit", loadKpis);
  document.getElementById("compare-form").addEventListener("submit", compare);
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    key = document.getElementById("key-input").value.trim();
    sessionStorage.setItem(KEY_STORE, key);
    start();
  });
  const status = await (await fetch("/console/status", {cache: "no-store"})).json();
  openMode = status.open;
  document.getElementById("open-warning").hidden = !openMode;
  if (openMode || key) start();
  else { document.getElementById("key-panel").hidden = false; document.getElementById("key-input").focus(); }
}

document.addEventListener("DOMContentLoaded", init);
