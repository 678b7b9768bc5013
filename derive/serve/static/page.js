// The local page: what the user types is sent, debounced, to /api/view; the answer (built by
// derive's own printers, derive/serve/view.py) is set with KaTeX. One request at a time: while
// one is out, later edits wait, and only the newest is sent. Nothing leaves this origin.
"use strict";

const $ = (id) => document.getElementById(id);
const DEBOUNCE_MS = 350;
const FIELDS = ["f", "wrt", "kind", "shape", "assume"];

let timer = null;
let inFlight = false;
let wanted = null;   // the query string the page should show
let blobs = [];

function math(tex, el, display) {
  try {
    katex.render(tex, el, { displayMode: display, throwOnError: false, strict: "ignore" });
  } catch (e) {
    el.textContent = tex;
  }
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function setState(state) { document.body.dataset.state = state; }

function status(text, isError) {
  const s = $("status");
  s.textContent = text;
  s.classList.toggle("error", Boolean(isError));
}

function formQuery() {
  const p = new URLSearchParams();
  p.set("f", $("f").value);
  p.set("wrt", $("wrt").value.trim());
  p.set("kind", $("kind").value);
  for (const key of ["shape", "assume"]) {
    for (const item of $(key).value.split(/[\s;]+/)) if (item) p.append(key, item);
  }
  return p.toString();
}

function saveHash() {
  const p = new URLSearchParams();
  for (const key of FIELDS) p.set(key, $(key).value);
  history.replaceState(null, "", "#" + p.toString());
}

function loadHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  for (const key of FIELDS) if (p.has(key)) $(key).value = p.get(key);
  if (p.has("worked")) return "worked=" + encodeURIComponent(p.get("worked"));
  if (p.has("mle")) return "mle=" + encodeURIComponent(p.get("mle"));
  return null;
}

function request(query) {
  wanted = query;
  if (inFlight) return;   // sent when the answer out now comes back
  send();
}

async function send() {
  const query = wanted;
  inFlight = true;
  setState("working");
  status("deriving…");
  $("out").classList.add("stale");
  const start = performance.now();
  try {
    const response = await fetch("/api/view?" + query, { cache: "no-store" });
    const body = await response.json();
    if (query !== wanted) return;   // overtaken: show only the newest
    if (response.ok) {
      show(body);
      const secs = ((performance.now() - start) / 1000).toFixed(1);
      status(`derived in ${secs} s`);
      setState("done");
    } else {
      status(body.error || `error ${response.status}`, true);
      setState("error");
    }
  } catch (e) {
    if (query === wanted) { status("the server did not answer: " + e, true); setState("error"); }
  } finally {
    inFlight = false;
    if (wanted !== query) send();
  }
}

function edited() {
  const tex = $("f").value;
  math(tex || "\\,", $("typed"), true);
  saveHash();
  markPick(null);
  clearTimeout(timer);
  if (!tex.trim() || !$("wrt").value.trim()) { status("type a function and its variable"); return; }
  timer = setTimeout(() => request(formQuery()), DEBOUNCE_MS);
}

function download(id, text, filename) {
  const a = $(id);
  if (text === null || text === undefined) {
    a.removeAttribute("href");
    a.setAttribute("aria-disabled", "true");
    return;
  }
  const url = URL.createObjectURL(new Blob([text], { type: "text/plain;charset=utf-8" }));
  blobs.push(url);
  a.href = url;
  a.download = filename;
  a.removeAttribute("aria-disabled");
}

function show(v) {
  for (const url of blobs) URL.revokeObjectURL(url);
  blobs = [];
  $("out").hidden = false;
  $("out").classList.remove("stale");
  $("title").textContent = v.title;
  const ver = $("verification");
  ver.textContent = v.verification;
  ver.className = v.passed === true ? "ok" : v.passed === false ? "bad" : "";

  $("read").hidden = v.objective === null;
  $("read-title").textContent = v.read ? "Read as" : "Objective";
  if (v.objective !== null) math((v.read ? "f = " : "") + v.objective, $("objective"), true);

  const given = $("given");
  given.replaceChildren();
  for (const g of v.given) {
    const tr = el("tr");
    const name = el("td"); math(g.name, name, false);
    const shape = el("td"); math(g.shape, shape, false);
    tr.append(name, shape, el("td", "", g.assumptions.join(", ")), el("td", "src", g.source));
    given.append(tr);
  }
  $("given-section").hidden = v.given.length === 0;
  $("goal").textContent = v.goal ? "Goal: " + v.goal : "";

  const steps = $("steps");
  steps.replaceChildren();
  for (const row of v.rows) {
    const li = el("li", "row-" + row.kind);
    const num = el("span", "num", row.kind === "step" ? row.number + "." : row.kind === "from" ? "from" : "");
    const eq = el("span", "eq");
    math(row.math, eq, true);
    li.append(num, eq);
    if (row.kind === "step") {
      li.append(el("div", "cite", "by " + row.cite + (row.note ? " — " + row.note : "")));
      li.dataset.rule = row.rule;
    }
    steps.append(li);
  }

  const result = $("result");
  result.replaceChildren();
  for (const r of v.results) { const d = el("div"); math(r, d, true); result.append(d); }
  const defs = $("definitions");
  defs.replaceChildren();
  for (const r of v.definitions) { const d = el("div"); math(r, d, true); defs.append(d); }

  const remarks = $("remarks");
  remarks.replaceChildren(...v.remarks.map((r) => el("li", "", r)));
  $("remarks-section").hidden = v.remarks.length === 0;

  $("copy").dataset.latex = v.copy;
  const py = v.stem.replace(/[^A-Za-z0-9_]/g, "_");
  download("dl-tex", v.files.tex, v.stem + ".tex");
  download("dl-md", v.files.md, v.stem + ".md");
  download("dl-json", v.files.json, v.stem + ".json");
  download("dl-numpy", v.files.numpy, py + "_numpy.py");
  download("dl-jax", v.files.jax, py + "_jax.py");
  $("code-note").textContent = v.code_note;
}

async function copyLatex() {
  const text = $("copy").dataset.latex || "";
  try {
    await navigator.clipboard.writeText(text);
  } catch (e) {   // no clipboard permission: the old way
    const t = el("textarea"); t.value = text; document.body.append(t); t.select();
    document.execCommand("copy"); t.remove();
  }
  status("copied the LaTeX of the result");
}

function markPick(button) {
  for (const b of document.querySelectorAll("ul.picks button")) b.classList.toggle("current", b === button);
}

function pick(kind, name, button) {
  markPick(button);
  clearTimeout(timer);
  history.replaceState(null, "", "#" + kind + "=" + encodeURIComponent(name));
  request(kind + "=" + encodeURIComponent(name));
}

async function catalog() {
  try {
    const response = await fetch("/api/catalog");
    const c = await response.json();
    for (const entry of c.worked) {
      const b = el("button", "", entry.name);
      b.type = "button"; b.title = entry.title;
      b.addEventListener("click", () => pick("worked", entry.name, b));
      const li = el("li"); li.append(b); $("worked").append(li);
    }
    for (const family of c.mle) {
      const b = el("button", "", family);
      b.type = "button"; b.title = "maximum-likelihood estimate: " + family;
      b.addEventListener("click", () => pick("mle", family, b));
      const li = el("li"); li.append(b); $("mle").append(li);
    }
  } catch (e) {
    status("could not load the catalogue: " + e, true);
  }
}

function start() {
  for (const key of FIELDS) $(key).addEventListener("input", edited);
  $("problem").addEventListener("submit", (e) => e.preventDefault());
  $("copy").addEventListener("click", copyLatex);
  const picked = loadHash();
  catalog();
  if (picked) {
    math($("f").value, $("typed"), true);
    request(picked);
  } else {
    edited();
  }
}

document.addEventListener("DOMContentLoaded", start);
