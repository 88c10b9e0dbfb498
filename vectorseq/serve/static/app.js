// The page of `vectorseq serve`: plain JavaScript, no build step, nothing fetched but this server's API.
// POST /explain gives the translation, the n-best list and how the text was vectorized; this file draws it.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
let models = [];
let last = null;

function headers() {
  const h = { "Content-Type": "application/json" };
  const key = $("api-key").value;
  if (key) h["Authorization"] = "Bearer " + key;
  return h;
}

function setStatus(text, isError) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
}

async function loadModels() {
  const r = await fetch("/models", { headers: headers() });
  const body = await r.json();
  if (r.status === 401) { $("key-label").hidden = false; setStatus("This server needs an API key.", true); return; }
  if (!r.ok) { setStatus(body.error ? body.error.message : "could not list the models", true); return; }
  models = body.models;
  $("model").replaceChildren(...models.map((m) => new Option(`${m.name} (${m.languages.src}→${m.languages.tgt}, ${m.engine})`, m.name)));
  const langs = [...new Set(models.map((m) => m.languages.tgt))];
  $("tgt-lang").replaceChildren(new Option("(the model's)", ""), ...langs.map((l) => new Option(l, l)));
  $("beam").value = models[0] ? models[0].decoding.beam_size : 4;
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawPieces(box, pieces) {
  box.replaceChildren(...pieces.map((p) => {
    const s = el("span", `piece origin-${p.origin}` + (p.unk ? " unk" : ""));
    s.title = `id ${p.id}, row: ${p.origin}` + (p.unk ? ", unknown to the vocabulary" : "") +
      (p.weight !== null && p.weight !== undefined ? `, tf-idf ${p.weight}, idf ${p.idf}` : "");
    s.append(el("b", "", p.text), el("span", "id", String(p.id)));
    if (p.weight !== null && p.weight !== undefined) s.append(el("span", "w", p.weight.toFixed(3)));
    return s;
  }));
}

function svgEl(tag, attrs, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function drawHeatmap(columns, rows, att) {
  const svg = $("heatmap");
  // margins wide enough for the longest labels (about 7 px a character at 12 px)
  const longest = (labels) => Math.max(1, ...labels.map((l) => l.length));
  const cell = 28, left = 12 + 7 * longest(rows), top = 16 + 5.5 * longest(columns);
  svg.replaceChildren();
  svg.setAttribute("width", left + cell * columns.length + 10);
  svg.setAttribute("height", top + cell * rows.length + 10);
  columns.forEach((c, j) => {
    const x = left + cell * j + cell / 2;
    svg.append(svgEl("text", { x, y: top - 6, transform: `rotate(-55 ${x} ${top - 6})`, class: "col-label" }, c));
  });
  rows.forEach((r, i) => {
    svg.append(svgEl("text", { x: left - 6, y: top + cell * i + cell * 0.65, "text-anchor": "end", class: "row-label" }, r));
    (att[i] || []).forEach((v, j) => {
      const rect = svgEl("rect", { x: left + cell * j, y: top + cell * i, width: cell - 1, height: cell - 1,
        fill: `rgba(31, 95, 191, ${Math.max(0.03, v).toFixed(3)})`, class: "cell", "data-row": i, "data-col": j });
      rect.append(svgEl("title", {}, `${r} → ${columns[j]}: ${v.toFixed(3)}`));
      svg.append(rect);
    });
  });
}

function showHypothesis(k) {
  const h = last.hypotheses[k];
  $("hyp-label").textContent = last.hypotheses.length > 1 ? `(hypothesis ${k + 1})` : "";
  drawPieces($("target-pieces"), h.pieces);
  drawHeatmap(last.columns, h.pieces.map((p) => p.text), h.attention);
  [...$("nbest").tBodies[0].rows].forEach((tr, i) => tr.classList.toggle("selected", i === k));
}

function drawVectorization(v) {
  const keys = ["split", "standardize", "vocabulary_size", "sentencepiece_model_type", "input", "vectors", "policy", "idf", "type_coverage", "token_coverage"];
  const t = $("vectorization");
  t.replaceChildren();
  const head = t.insertRow();
  ["", "source", "target"].forEach((h) => head.append(el("th", "", h)));
  for (const k of keys) {
    if (v.src[k] === undefined && v.tgt[k] === undefined) continue;
    const row = t.insertRow();
    row.append(el("td", "", k));
    for (const side of [v.src, v.tgt]) {
      let x = side[k];
      if (typeof x === "number" && !Number.isInteger(x)) x = (100 * x).toFixed(1) + "%";
      row.append(el("td", "", x === null || x === undefined ? "–" : String(x)));
    }
  }
  const row = t.insertRow();
  row.append(el("td", "", "shared vocabulary"), el("td", "", String(v.shared_vocabulary)), el("td", "", ""));
}

function render(body) {
  last = body;
  $("result").hidden = false;
  $("translation").textContent = body.translation;
  const tb = $("nbest").tBodies[0];
  tb.replaceChildren(...body.hypotheses.map((h, k) => {
    const tr = el("tr");
    tr.append(el("td", "", String(k + 1)), el("td", "", h.text), el("td", "", h.score === null ? "–" : h.score.toFixed(3)));
    tr.addEventListener("click", () => showHypothesis(k));
    return tr;
  }));
  drawPieces($("source-pieces"), body.source);
  drawVectorization(body.vectorization);
  showHypothesis(0);
  setStatus(`${body.model} (${body.engine}) in ${body.elapsed_ms} ms`, false);
}

async function submit(ev) {
  if (ev) ev.preventDefault();
  const beam = parseInt($("beam").value, 10) || 1;
  const req = { text: $("text").value, model: $("model").value || null, tgt_lang: $("tgt-lang").value || null,
                beam, n_best: Math.min(parseInt($("n-best").value, 10) || 1, beam) };
  $("go").disabled = true;
  setStatus("translating…", false);
  try {
    const r = await fetch("/explain", { method: "POST", headers: headers(), body: JSON.stringify(req) });
    const body = await r.json();
    if (r.status === 401) $("key-label").hidden = false;
    if (!r.ok) setStatus(body.error ? `${r.status}: ${body.error.message}` : `error ${r.status}`, true);
    else render(body);
  } catch (e) {
    setStatus("the server did not answer: " + e, true);
  } finally {
    $("go").disabled = false;
  }
}

// ?text=...&model=...&tgt_lang=...&run=1 fills the form (and submits it): links that show one sentence
async function start() {
  $("form").addEventListener("submit", submit);
  await loadModels();
  const q = new URLSearchParams(location.search);
  if (q.get("text")) $("text").value = q.get("text");
  if (q.get("model")) $("model").value = q.get("model");
  if (q.get("tgt_lang")) $("tgt-lang").value = q.get("tgt_lang");
  if (q.get("beam")) $("beam").value = q.get("beam");
  if (q.get("n_best")) $("n-best").value = q.get("n_best");
  if (q.get("run") && $("text").value) await submit();
}

start();
