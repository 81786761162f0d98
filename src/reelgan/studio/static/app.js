// reelgan studio: one page, four tabs; every action is a POST to /api/... answered with JSON.
"use strict";

const $ = (id) => document.getElementById(id);
const state = { selected: [], samples: new Map(), focus: null, run: null, detail: null, filmJob: null };

function showMessage(text, isError = true) {
  const box = $("message");
  box.textContent = text;
  box.className = isError ? "error" : "info";
  box.hidden = !text;
  clearTimeout(showMessage.timer);
  if (!isError) showMessage.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

async function api(name, params = {}) {
  const response = await fetch(`/api/${name}`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(params),
  });
  let data;
  try { data = await response.json(); } catch (e) { data = { error: `the studio answered ${response.status}` }; }
  if (!response.ok || data.error) { showMessage(data.error || `error ${response.status}`); throw new Error(data.error); }
  return data;
}

// ---- tabs
document.querySelectorAll(".tab").forEach((button) => button.addEventListener("click", () => openTab(button.dataset.tab)));
function openTab(name) {
  document.querySelectorAll(".panel").forEach((p) => { p.hidden = p.id !== name; });
  document.querySelectorAll(".tab").forEach((b) => b.classList.toggle("active", b.dataset.tab === name));
  if (name === "glyphs" && !$("glyph").src) drawGlyph();
}

// ---- train
$("train-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const params = Object.fromEntries(form.entries());
  try {
    await api("train", params);
    showMessage("training started", false);
    refresh();
  } catch (e) { /* shown */ }
});

function fmtTime(s) { if (s === null || s === undefined) return ""; const m = Math.floor(s / 60); return `${m}:${String(Math.round(s % 60)).padStart(2, "0")}`; }

// The job list and the run cards are updated in place, keyed by id, rather than rebuilt on every
// refresh: a rebuilt Stop button under the pointer swallows the click that was meant for it.
function keyedChild(box, selector, key, make) {
  let el = box.querySelector(`${selector}[data-key="${CSS.escape(String(key))}"]`);
  if (!el) { el = make(); el.dataset.key = String(key); }
  box.appendChild(el);  // appending an existing child moves it: the order follows the server's
  return el;
}

function dropOthers(box, keep) {
  for (const el of [...box.children]) if (!keep.has(el.dataset.key)) el.remove();
}

function renderJobs(jobs) {
  const box = $("jobs");
  if (!jobs.length) { box.textContent = "No jobs yet."; return; }
  if (box.firstChild && box.firstChild.nodeType === Node.TEXT_NODE) box.textContent = "";
  for (const job of jobs) {
    const div = keyedChild(box, ".job", job.id, () => {
      const d = document.createElement("div");
      d.dataset.job = job.id;
      d.innerHTML = '<div class="job-head"></div><div class="job-error"></div><pre></pre>';
      return d;
    });
    div.className = `job ${job.status}`;
    const eta = job.eta_s !== null ? ` · about ${fmtTime(job.eta_s)} left` : "";
    div.querySelector(".job-head").innerHTML = `<b>${job.kind} #${job.id}</b> <span class="status">${job.status}</span>${eta} · ${fmtTime(job.elapsed_s)} ${job.run ? "· " + job.run : ""}`;
    const error = div.querySelector(".job-error");
    error.textContent = job.error || "";
    error.hidden = !job.error;
    const log = job.log.join("\n");
    const pre = div.querySelector("pre");
    if (pre.textContent !== log) pre.textContent = log;
    let stop = div.querySelector("button.stop");
    if (job.status === "running" && !stop) {
      stop = document.createElement("button");
      stop.textContent = "Stop (saves a checkpoint)";
      stop.className = "stop";
      stop.addEventListener("click", () => api("stop", { job: job.id }).then(refresh).catch(() => {}));
      div.appendChild(stop);
    } else if (job.status !== "running" && stop) {
      stop.remove();
    }
    if (job.kind === "film" && job.id === state.filmJob) showFilm(job);
  }
  dropOthers(box, new Set(jobs.map((j) => String(j.id))));
}

function renderRuns(runs) {
  const box = $("runs");
  for (const run of runs) {
    const card = keyedChild(box, ".run-card", run.name, () => {
      const c = document.createElement("div");
      c.className = "run-card";
      c.dataset.run = run.name;
      c.innerHTML = '<img hidden><div><b></b></div><div class="run-step"></div>';
      c.querySelector("b").textContent = run.name;
      c.querySelector("img").alt = run.name;
      c.addEventListener("click", () => { state.detail = run.name; refreshDetail(); });
      return c;
    });
    card.querySelector(".run-step").textContent = `step ${run.step}${run.training ? " · training" : ""}`;
    const img = card.querySelector("img");
    // A new step means new samples on disk: only then is the picture fetched again.
    if (run.samples && img.dataset.step !== String(run.step)) {
      img.src = `${run.samples}?step=${run.step}`;
      img.dataset.step = String(run.step);
    }
    img.hidden = !run.samples;
  }
  dropOthers(box, new Set(runs.map((r) => r.name)));
  for (const select of [$("explore-run"), $("film-run")]) {
    const keep = select.value;
    const names = runs.filter((r) => r.explorable).map((r) => r.name);
    const first = select.id === "film-run" ? '<option value="">(procedural glyphs)</option>' : "";
    select.innerHTML = first + names.map((n) => `<option>${n}</option>`).join("");
    if (names.includes(keep)) select.value = keep;
  }
}

function drawMetrics(rows) {
  // The first metric the run measures (FID, KID ...) against the step, lower is better.
  const canvas = $("metric-chart");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const key = rows.length ? Object.keys(rows[0]).find((k) => k !== "step" && typeof rows[0][k] === "number") : null;
  if (!key || rows.length < 1) { ctx.fillStyle = "#333"; ctx.fillText("no metrics yet (train with --metrics-every)", 10, 20); return; }
  const values = rows.map((r) => r[key]);
  const lo = Math.min(...values), hi = Math.max(...values);
  const x = (i) => 40 + (rows.length > 1 ? i / (rows.length - 1) : 0.5) * (canvas.width - 50);
  const y = (v) => canvas.height - 20 - ((v - lo) / (hi - lo || 1)) * (canvas.height - 40);
  ctx.strokeStyle = "#999"; ctx.strokeRect(40, 10, canvas.width - 50, canvas.height - 30);
  ctx.fillStyle = "#333"; ctx.fillText(hi.toFixed(2), 2, 16); ctx.fillText(lo.toFixed(2), 2, canvas.height - 20);
  ctx.fillText(key, 50, 24);
  ctx.strokeStyle = "#6c3483"; ctx.beginPath();
  values.forEach((v, i) => { if (i === 0) ctx.moveTo(x(i), y(v)); else ctx.lineTo(x(i), y(v)); });
  ctx.stroke();
  values.forEach((v, i) => { ctx.fillStyle = "#6c3483"; ctx.fillRect(x(i) - 2, y(v) - 2, 4, 4); });
}

function drawCurves(curves) {
  const canvas = $("loss-chart");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const steps = curves.step || [];
  if (steps.length < 2) { ctx.fillText("no losses yet", 10, 20); return; }
  const series = [["loss_D", "#b03a2e"], ["loss_G", "#1f618d"]];
  const values = series.flatMap(([k]) => (curves[k] || []).filter((v) => v !== null));
  const lo = Math.min(...values), hi = Math.max(...values);
  const x = (i) => 40 + (i / (steps.length - 1)) * (canvas.width - 50);
  const y = (v) => canvas.height - 20 - ((v - lo) / (hi - lo || 1)) * (canvas.height - 40);
  ctx.strokeStyle = "#999"; ctx.strokeRect(40, 10, canvas.width - 50, canvas.height - 30);
  ctx.fillStyle = "#333"; ctx.fillText(hi.toFixed(2), 2, 16); ctx.fillText(lo.toFixed(2), 2, canvas.height - 20);
  ctx.fillText(`step ${steps[steps.length - 1]}`, canvas.width - 80, canvas.height - 4);
  series.forEach(([key, colour], k) => {
    ctx.strokeStyle = colour; ctx.beginPath();
    (curves[key] || []).forEach((v, i) => { if (v !== null) { if (i === 0) ctx.moveTo(x(i), y(v)); else ctx.lineTo(x(i), y(v)); } });
    ctx.stroke(); ctx.fillStyle = colour; ctx.fillText(key, 50 + 60 * k, 24);
  });
}

async function refreshDetail() {
  if (!state.detail) return;
  try {
    const data = await api("stats", { run: state.detail });
    $("run-detail").hidden = false;
    $("run-title").textContent = data.run;
    drawCurves(data.curves);
    drawMetrics(data.metrics);
    if (data.samples) $("run-samples").src = `${data.samples}?t=${Date.now()}`;
    const rows = data.metrics.slice(-5).map((m) => `<tr><td>step ${m.step}</td><td>${Object.entries(m).filter(([k]) => k !== "step").map(([k, v]) => `${k} ${typeof v === "number" ? v.toFixed(3) : v}`).join(", ")}</td></tr>`);
    $("run-metrics").innerHTML = rows.join("");
  } catch (e) { /* shown */ }
}

$("resume").addEventListener("click", () => api("resume", { run: state.detail, minutes: $("resume-minutes").value }).then(refresh).catch(() => {}));

async function refresh() {
  try {
    const data = await api("runs");
    renderJobs(data.jobs);
    renderRuns(data.runs);
    refreshDetail();
  } catch (e) { /* shown */ }
}

// ---- explore
function exploreRun() { return $("explore-run").value; }

function renderSamples(samples, replace = true) {
  const grid = $("grid");
  if (replace) { grid.innerHTML = ""; state.selected = []; }
  for (const s of samples) {
    state.samples.set(s.id, s);
    const card = document.createElement("div");
    card.className = "sample";
    card.dataset.id = s.id;
    const p = s.p_liked !== null && s.p_liked !== undefined ? ` · ${Math.round(100 * s.p_liked)}%` : "";
    card.innerHTML = `<img src="${s.src}" alt="sample ${s.id}"><div class="caption">#${s.id} ${s.op}${p}</div>
      <div class="votes"><button class="like" title="more like this">Like</button><button class="dislike" title="less like this">No</button></div>`;
    card.classList.toggle("liked", s.liked === true);
    card.classList.toggle("disliked", s.liked === false);
    card.querySelector("img").addEventListener("click", () => select(s.id, card));
    card.querySelector(".like").addEventListener("click", () => rate(s.id, card, true));
    card.querySelector(".dislike").addEventListener("click", () => rate(s.id, card, false));
    grid.appendChild(card);
  }
  loadLineage();
}

function select(id, card) {
  const at = state.selected.indexOf(id);
  if (at >= 0) state.selected.splice(at, 1); else state.selected.push(id);
  card.classList.toggle("selected", at < 0);
  state.focus = state.selected.length ? state.selected[state.selected.length - 1] : null;
  $("directions-of").textContent = state.focus === null ? "" : `of #${state.focus}`;
  buildSliders();
}

async function rate(id, card, liked) {
  const current = card.classList.contains(liked ? "liked" : "disliked");
  const value = current ? null : liked;
  try {
    await api("explore/rate", { run: exploreRun(), id, liked: value });
    card.classList.toggle("liked", value === true);
    card.classList.toggle("disliked", value === false);
    loadLineage();
  } catch (e) { /* shown */ }
}

$("new-grid").addEventListener("click", () => api("explore/grid", { run: exploreRun(), seed: Number($("grid-seed").value), n: 16 }).then((d) => { renderSamples(d.samples); $("grid-seed").value = Number($("grid-seed").value) + 16; }).catch(() => {}));
$("suggest").addEventListener("click", () => api("explore/suggest", { run: exploreRun(), n: 16, explore: Number($("explore-knob").value) }).then((d) => renderSamples(d.samples)).catch(() => {}));
$("children").addEventListener("click", () => {
  if (state.focus === null) { showMessage("select a sample first (click its picture)"); return; }
  api("explore/children", { run: exploreRun(), of: state.focus, n: 8, sigma: Number($("sigma").value) }).then((d) => renderSamples(d.samples)).catch(() => {});
});
$("crossover").addEventListener("click", () => {
  if (state.selected.length < 2) { showMessage("select two or more samples to cross (click their pictures)"); return; }
  api("explore/crossover", { run: exploreRun(), of: state.selected, n: 8 }).then((d) => renderSamples(d.samples)).catch(() => {});
});
$("export").addEventListener("click", () => api("explore/export", { run: exploreRun() }).then((d) => {
  const links = [`<a href="${d.grid}" download>picks.png</a>`].concat(d.morph ? [`<a href="${d.morph}" download>morph.mp4</a>`] : []);
  $("export-links").innerHTML = `${d.files.length} picks exported: ` + links.join(" ");
  showMessage(`exported ${d.files.length} picks`, false);
}).catch(() => {}));

let sliderTimer = null;
async function buildSliders() {
  const box = $("sliders");
  box.innerHTML = "";
  if (state.focus === null) return;
  const data = await api("explore/directions", { run: exploreRun(), method: $("direction-method").value, count: 6 });
  for (let k = 0; k < data.count; k++) {
    const label = document.createElement("label");
    label.innerHTML = `${k + 1} <input type="range" class="direction" min="-5" max="5" step="0.1" value="0">`;
    label.querySelector("input").addEventListener("input", () => { clearTimeout(sliderTimer); sliderTimer = setTimeout(preview, 60); });
    box.appendChild(label);
  }
  preview();
}
$("direction-method").addEventListener("change", buildSliders);
function amounts() { return Array.from(document.querySelectorAll("input.direction")).map((s) => Number(s.value)); }
async function preview() {
  if (state.focus === null) return;
  const d = await api("explore/move", { run: exploreRun(), of: state.focus, method: $("direction-method").value, amounts: amounts() });
  $("preview").src = d.src;
}
$("keep").addEventListener("click", () => {
  if (state.focus === null) { showMessage("select a sample first"); return; }
  api("explore/keep", { run: exploreRun(), of: state.focus, method: $("direction-method").value, amounts: amounts() }).then((d) => renderSamples(d.samples, false)).catch(() => {});
});

async function loadLineage() {
  try {
    const data = await api("explore/lineage", { run: exploreRun() });
    $("lineage").innerHTML = data.entries.slice(-30).reverse().map((e) => `<li>#${e.id} ${e.op}${e.parents.length ? " of " + e.parents.map((p) => "#" + p).join(", ") : ""}${e.seed !== null && e.op !== "seed" ? " seed " + e.seed : ""}${e.op === "seed" ? " " + e.seed : ""}${e.liked === true ? " · liked" : e.liked === false ? " · disliked" : ""}</li>`).join("");
  } catch (e) { /* shown */ }
}
$("explore-run").addEventListener("change", () => { $("grid").innerHTML = ""; state.selected = []; state.focus = null; $("sliders").innerHTML = ""; loadLineage(); });

// ---- glyphs
let glyphTimer = null;
async function drawGlyph() {
  const phrase = $("phrase").value;
  if (!phrase.trim()) return;
  try { $("glyph").src = (await api("glyph", { phrase, size: 320 })).src; } catch (e) { /* shown */ }
}
$("phrase").addEventListener("input", () => { clearTimeout(glyphTimer); glyphTimer = setTimeout(drawGlyph, 150); });
$("make-sheet").addEventListener("click", () => api("glyph-sheet", { phrases: $("phrases").value }).then((d) => { $("sheet").src = d.src; }).catch(() => {}));

// ---- film
$("script-file").addEventListener("change", (event) => {
  const file = event.target.files[0];
  if (!file) return;
  const reader = new FileReader();
  reader.onload = () => { $("script").value = reader.result; };
  reader.readAsText(file);
});
$("render").addEventListener("click", () => api("film", { script: $("script").value, run: $("film-run").value || null }).then((job) => {
  state.filmJob = job.id; $("film-video").hidden = true; $("film-files").textContent = "rendering..."; delete $("film-files").dataset.links; refresh();
}).catch(() => {}));
function showFilm(job) {
  if (job.status === "finished" && job.files) {
    const mp4 = job.files.find((f) => f.endsWith(".mp4"));
    if (mp4 && !$("film-video").src.includes(mp4)) { $("film-video").src = mp4; $("film-video").hidden = false; }
    const links = job.files.map((f) => `<a href="${f}" download>${f.split("/").pop()}</a>`).join(" ");
    if ($("film-files").dataset.links !== links) { $("film-files").innerHTML = links; $("film-files").dataset.links = links; }
  } else if (job.status === "failed") {
    $("film-files").textContent = job.error || "the render failed";
    delete $("film-files").dataset.links;
  } else {
    $("film-files").textContent = `rendering... ${fmtTime(job.elapsed_s)}`;
    delete $("film-files").dataset.links;
  }
}

openTab("explore");
refresh().then(() => { if (exploreRun()) loadLineage(); else openTab("train"); });
setInterval(refresh, 2500);
