// signlens page: camera/upload -> POST /v1/predict -> letter, 28×28 preview, probability chart,
// and live fingerspelling. Plain JS, no dependencies, nothing loaded from outside this server.
"use strict";

const HANDSHAPES = {
  A: "fist, thumb against the side", B: "flat hand up, thumb across palm", C: "hand curved into a C",
  D: "index up, others touch the thumb", E: "fingertips curled onto the thumb", F: "thumb and index circle, three up",
  G: "index and thumb point sideways", H: "index and middle point sideways", I: "little finger up",
  K: "index up, middle out, thumb between", L: "thumb and index form an L", M: "thumb under three fingers",
  N: "thumb under two fingers", O: "fingertips meet the thumb: an O", P: "K pointing down",
  Q: "G pointing down", R: "index and middle crossed", S: "fist, thumb across the fingers",
  T: "thumb between index and middle", U: "index and middle up, together", V: "index and middle up, apart",
  W: "three fingers up, apart", X: "index bent like a hook", Y: "thumb and little finger out",
};

const $ = (id) => document.getElementById(id);
const state = { letters: [], stream: null, live: false, busy: false, lastId: null };

function status(message, isError = false) {
  $("status").textContent = message;
  $("status").classList.toggle("error", isError);
}

async function predict(body, contentType) {
  // an empty choice leaves the model to the server's A/B assignment (sticky through its cookie)
  const model = $("model-select").value, query = model ? `?model=${encodeURIComponent(model)}` : "";
  const resp = await fetch(`/v1/predict${query}`, { method: "POST", body, headers: { "content-type": contentType } });
  const data = await resp.json().catch(() => ({ detail: `server answered ${resp.status}` }));
  if (!resp.ok) throw new Error(data.detail || `server answered ${resp.status}`);
  return data;
}

function drawChart(probs, top) {
  const svg = $("chart"), ns = "http://www.w3.org/2000/svg";
  svg.replaceChildren();
  const w = 480 / state.letters.length, h = 140;
  state.letters.forEach((letter, i) => {
    const p = probs[letter] || 0, bar = document.createElementNS(ns, "rect");
    const bh = Math.max(1, p * h);
    Object.entries({ x: i * w + 2, y: h - bh, width: w - 4, height: bh }).forEach(([k, v]) => bar.setAttribute(k, v));
    bar.setAttribute("class", letter === top ? "bar top" : "bar");
    bar.dataset.letter = letter;
    bar.dataset.p = p.toFixed(4);
    const title = document.createElementNS(ns, "title");
    title.textContent = `${letter}: ${(100 * p).toFixed(1)}%`;
    bar.append(title);
    const label = document.createElementNS(ns, "text");
    label.setAttribute("x", i * w + w / 2);
    label.setAttribute("y", 160);
    label.textContent = letter;
    svg.append(bar, label);
  });
  const best = Object.entries(probs).sort((a, b) => b[1] - a[1]).slice(0, 3);
  svg.setAttribute("aria-label", "Top letters: " + best.map(([l, p]) => `${l} ${(100 * p).toFixed(0)}%`).join(", "));
}

// MediaPipe's hand skeleton: pairs of landmark indices (wrist 0, then thumb, index, middle, ring, pinky).
const BONES = [[0, 1], [1, 2], [2, 3], [3, 4], [0, 5], [5, 6], [6, 7], [7, 8], [5, 9], [9, 10], [10, 11],
  [11, 12], [9, 13], [13, 14], [14, 15], [15, 16], [13, 17], [0, 17], [17, 18], [18, 19], [19, 20]];

function drawSkeleton(ctx, points, scale) {
  ctx.lineWidth = 2;
  ctx.strokeStyle = "#4dabf7";
  ctx.beginPath();
  for (const [a, b] of BONES) {
    ctx.moveTo(points[a][0] * scale, points[a][1] * scale);
    ctx.lineTo(points[b][0] * scale, points[b][1] * scale);
  }
  ctx.stroke();
  ctx.fillStyle = "#f8f9fa";
  for (const [x, y] of points) ctx.fillRect(x * scale - 2, y * scale - 2, 4, 4);
}

// The submitted image with the square the server cropped the hand from (its `input.box`) and,
// when the model reads hand landmarks, the skeleton it read (`input.hand_points`).
async function drawSource(blob, box, handFound, points) {
  const canvas = $("source");
  if (!blob || !window.createImageBitmap) { canvas.hidden = true; return; }
  try {
    const bitmap = await createImageBitmap(blob);
    const scale = 224 / Math.max(bitmap.width, bitmap.height);
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    const ctx = canvas.getContext("2d");
    ctx.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    ctx.lineWidth = 3;
    ctx.strokeStyle = handFound ? "#3fb950" : "#d9480f";
    ctx.strokeRect(box[0] * scale, box[1] * scale, box[2] * scale, box[3] * scale);
    if (points) drawSkeleton(ctx, points, scale);
    canvas.dataset.box = box.join(",");
    canvas.dataset.landmarks = points ? String(points.length) : "0";
    canvas.hidden = false;
  } catch {
    canvas.hidden = true;
  }
}

function cropNote(input) {
  if (input.hand_found) return input.hand_points ? " · hand landmarks read" : "";
  const [x, y, w, h] = input.box;  // a 28×28 grid is the model's own format: used as it is
  return x === 0 && y === 0 && w === 28 && h === 28 ? " · 28×28 input used as is" : " · no hand found, centre crop used";
}

// What the server made of an image: the crop box on the source and the 28×28 grid.
function showInput(input, source) {
  const img = $("preview");
  img.src = "data:image/png;base64," + input.preview_png;
  img.hidden = false;
  drawSource(source, input.box, input.hand_found, input.hand_points);
}

function show(result, source) {
  state.lastId = result.id;
  $("feedback").hidden = false;
  $("feedback-letter").value = result.letter;
  $("feedback-status").textContent = "";
  $("result-letter").textContent = result.hand === false ? "–" : result.letter;
  $("result-confidence").textContent = result.hand === false ? "No hand in view: show one letter to the camera." :
    `${(100 * result.confidence).toFixed(1)}% confident`;
  $("result-meta").textContent = `${result.model} ${result.version} · ${result.latency_ms.toFixed(1)} ms` +
    cropNote(result.input);
  showInput(result.input, source);
  drawChart(result.probabilities, result.letter);
}

// --- fingerspelling: type a letter once it has held the top spot long enough ---------------
const speller = { candidate: null, since: 0, typed: false };

function spell(result, now) {
  const conf = parseFloat($("hold-conf").value) || 0.6, hold = parseInt($("hold-ms").value, 10) || 800;
  if (result.hand === false || result.confidence < conf) { speller.candidate = null; return; }  // a release: the same letter may follow
  if (result.letter !== speller.candidate) {
    Object.assign(speller, { candidate: result.letter, since: now, typed: false });
  } else if (!speller.typed && now - speller.since >= hold) {
    speller.typed = true; // the same letter twice needs a change or a release in between
    typeLetter(result.letter, state.letters.map((l) => result.probabilities[l] || 0));
  }
}

// --- words: the letters of the word being spelled -> the decoder's suggestions (POST /v1/spell) ---
// The text is `word.done` (accepted words) plus the letters read so far; Space accepts a suggestion.
const WORDS_KEY = "signlens-my-words";
const word = { done: "", letters: "", rows: [], suggestions: [], typed: false, pending: Promise.resolve(), seq: 0 };

function myWords() {
  try { return JSON.parse(localStorage.getItem(WORDS_KEY) || "[]"); } catch { return []; }
}

function showText() {
  $("spelled").value = word.done + word.letters;
  $("word-letters").textContent = word.letters || "–";
}

function showSuggestions(candidates) {
  word.suggestions = candidates;
  $("suggestions").replaceChildren(...candidates.map((c, i) => {
    const b = document.createElement("button"), score = document.createElement("small");
    b.type = "button";
    b.className = i === 0 ? "suggestion best" : "suggestion";
    b.dataset.word = c.text;
    score.textContent = `${Math.round(100 * c.score)}%`;
    b.append(c.text, score);
    b.title = [c.source === "letters" ? "the letters as read" : c.source === "user" ? "your word" : "English word", c.edit]
      .filter(Boolean).join(" · ");
    b.addEventListener("click", () => accept(c.text));
    return b;
  }));
}

async function fetchSuggestions(seq) {
  if (!word.letters) return showSuggestions([]);
  if (word.typed) return showSuggestions([{ text: word.letters, score: 1, source: "letters", edit: "typed J/Z" }]);
  try {
    const resp = await fetch("/v1/spell?top=5", { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ probabilities: word.rows, words: myWords() }) });
    const data = await resp.json().catch(() => ({ detail: `server answered ${resp.status}` }));
    if (!resp.ok) throw new Error(data.detail || `server answered ${resp.status}`);
    if (seq === word.seq) showSuggestions(data.candidates);
  } catch (err) {
    if (seq === word.seq) showSuggestions([{ text: word.letters, score: 1, source: "letters", edit: "" }]);
    status(`No word suggestions: ${err.message}`, true);
  }
}

function wordChanged() {
  showText();
  word.pending = fetchSuggestions(++word.seq);
}

// row: the letter's probabilities (state.letters order); null for a letter typed with a button (J, Z)
function typeLetter(letter, row) {
  word.letters += letter;
  word.rows.push(row);
  word.typed = word.rows.some((r) => !r);
  wordChanged();
}

function resetWord() { Object.assign(word, { letters: "", rows: [], typed: false }); wordChanged(); }

function accept(text) {
  word.done += `${text} `;
  resetWord();
}

async function acceptBest() {  // Space: the best suggestion, or a space between words
  if (!word.letters) { word.done += " "; showText(); return; }
  await word.pending;
  accept(word.suggestions.length ? word.suggestions[0].text : word.letters);
}

function backspace() {
  if (word.letters) {
    word.letters = word.letters.slice(0, -1);
    word.rows.pop();
    word.typed = word.rows.some((r) => !r);
    wordChanged();
  } else {
    word.done = word.done.slice(0, -1);
    showText();
  }
}

function showMyWords() {
  $("my-words").replaceChildren(...myWords().map((w) => {
    const li = document.createElement("li"), remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "×";
    remove.setAttribute("aria-label", `Remove ${w}`);
    remove.addEventListener("click", () => {
      localStorage.setItem(WORDS_KEY, JSON.stringify(myWords().filter((x) => x !== w)));
      showMyWords();
      wordChanged();
    });
    li.append(w, remove);
    li.className = "has";
    return li;
  }));
}

function addWord(event) {
  event.preventDefault();
  const text = $("my-word").value.trim().toUpperCase();
  if (!/^[A-Z]+$/.test(text)) { $("word-status").textContent = "Letters A–Z only, one word."; return; }
  if (/[JZ]/.test(text)) { $("word-status").textContent = "Words with J or Z are typed, not read: no need to add them."; return; }
  if (!myWords().includes(text)) localStorage.setItem(WORDS_KEY, JSON.stringify([...myWords(), text]));
  $("my-word").value = "";
  $("word-status").textContent = `${text} added.`;
  showMyWords();
  wordChanged();
}

// --- camera ------------------------------------------------------------------------------------
function cameraError(err) {
  const name = err && err.name;
  if (name === "NotAllowedError" || name === "SecurityError")
    return "Camera permission was refused. Allow the camera in your browser's site settings, or upload an image instead.";
  if (name === "NotFoundError" || name === "OverconstrainedError")
    return "No camera was found on this device. You can still upload an image.";
  if (name === "NotReadableError") return "The camera is in use by another application.";
  return `The camera could not start (${name || err}). You can still upload an image.`;
}

function placeGuide() {
  const video = $("video"), box = video.getBoundingClientRect(), guide = $("guide");
  if (!video.videoWidth) return;
  const scale = Math.min(box.width / video.videoWidth, box.height / video.videoHeight);
  const side = Math.min(video.videoWidth, video.videoHeight) * scale;
  Object.assign(guide.style, { width: `${side}px`, height: `${side}px`,
    left: `${(box.width - side) / 2}px`, top: `${(box.height - side) / 2}px` });
  guide.hidden = false;
}

async function startCamera() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    status("No camera access here: the camera needs a browser that supports it and a page served over https or localhost. Upload an image instead.", true);
    return;
  }
  try {
    state.stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "user" }, audio: false });
  } catch (err) {
    status(cameraError(err), true);
    return;
  }
  const video = $("video");
  video.srcObject = state.stream;
  await video.play();
  $("camera-off").hidden = true;
  placeGuide();
  $("capture").disabled = $("live-toggle").disabled = $("teach-capture").disabled = false;
  $("camera-start").textContent = "Stop camera";
  status("Camera on. Capture a frame or start live mode.");
}

function stopCamera() {
  setLive(false);
  state.stream.getTracks().forEach((t) => t.stop());
  state.stream = null;
  $("video").srcObject = null;
  $("guide").hidden = true;
  $("camera-off").hidden = false;
  $("capture").disabled = $("live-toggle").disabled = $("teach-capture").disabled = true;
  $("camera-start").textContent = "Start camera";
  status("Camera off.");
}

// The guide box is the centre square: exactly what the server would crop from the full frame.
function frameBlob() {
  const video = $("video"), side = Math.min(video.videoWidth, video.videoHeight), out = Math.min(side, 224);
  const canvas = document.createElement("canvas");
  canvas.width = canvas.height = out;
  canvas.getContext("2d").drawImage(video, (video.videoWidth - side) / 2, (video.videoHeight - side) / 2, side, side, 0, 0, out, out);
  return new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
}

async function captureOnce() {
  if (!state.stream || state.busy) return;
  state.busy = true;
  try {
    const frame = await frameBlob();
    const result = await predict(frame, "image/png");
    show(result, frame);
    return result;
  } catch (err) {
    status(`Prediction failed: ${err.message}`, true);
  } finally {
    state.busy = false;
  }
}

async function liveLoop() {
  while (state.live) {
    const started = performance.now();
    const result = await captureOnce();
    if (result && state.live) spell(result, performance.now());  // none typed after Stop
    const period = 1000 / parseInt($("fps").value, 10);
    await new Promise((r) => setTimeout(r, Math.max(0, period - (performance.now() - started))));
  }
}

function setLive(on) {
  state.live = on && !!state.stream;
  $("live-toggle").setAttribute("aria-pressed", String(state.live));
  $("live-toggle").firstChild.textContent = state.live ? "Stop live " : "Start live ";
  if (state.live) { speller.candidate = null; status("Live: hold a letter steady to type it."); liveLoop(); }
}

// --- upload / drag-and-drop --------------------------------------------------------------------
async function predictFile(file) {
  if (!file) return;
  if (!["image/png", "image/jpeg", "image/webp"].includes(file.type)) {
    status(`${file.name}: not a png, jpeg or webp image.`, true);
    return;
  }
  status(`Predicting ${file.name}…`);
  try {
    show(await predict(file, file.type), file);
    status(`${file.name}: done.`);
  } catch (err) {
    status(`${file.name}: ${err.message}`, true);
  }
}

// --- feedback: "wrong? it was …" for the last prediction -----------------------------------------
async function sendFeedback(event) {
  event.preventDefault();
  if (!state.lastId) return;
  const trueLetter = $("feedback-letter").value;
  try {
    const resp = await fetch("/v1/feedback", {
      method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ prediction_id: state.lastId, true_letter: trueLetter }),
    });
    const data = await resp.json().catch(() => ({}));
    if (!resp.ok) throw new Error(data.detail || `server answered ${resp.status}`);
    $("feedback-status").textContent = `Thanks: recorded as ${data.true_letter}.`;
  } catch (err) {
    $("feedback-status").textContent = `Feedback failed: ${err.message}`;
  }
}

// --- teach: samples of the user's own hand -> a personal model -----------------------------------
const SESSION_KEY = "signlens-teach-session";
const teach = { session: localStorage.getItem(SESSION_KEY), busy: false, total: 0 };

async function teachFetch(path, options = {}) {
  const resp = await fetch(`/v1/teach${path}`, options);
  const data = await resp.json().catch(() => ({ detail: `server answered ${resp.status}` }));
  if (!resp.ok) { const err = new Error(data.detail || `server answered ${resp.status}`); err.code = data.error; throw err; }
  return data;
}

function teachStatus(message) { $("teach-status").textContent = message; }

function showCounts(info) {
  const counts = info.counts || {};
  $("teach-counts").replaceChildren(...state.letters.map((l) => {
    const li = document.createElement("li"), n = counts[l] || 0;
    li.textContent = `${l} ${n}`;
    li.className = n ? "has" : "";
    return li;
  }));
  teach.total = info.total || 0;
  $("teach-train").disabled = !teach.total || teach.busy;
}

async function teachSession() {
  if (teach.session) {
    try { return await teachFetch(`/sessions/${teach.session}`); }
    catch (err) { if (err.code !== "unknown_session") throw err; }
  }
  const info = await teachFetch("/sessions", { method: "POST" });
  teach.session = info.session;
  localStorage.setItem(SESSION_KEY, info.session);
  return info;
}

async function addSample(blob, type) {
  if (!teach.session) await teachSession();
  const letter = $("teach-letter").value;
  const post = () => teachFetch(`/sessions/${teach.session}/samples/${letter}`,
    { method: "POST", body: blob, headers: { "content-type": type } });
  let info;
  try {
    info = await post();
  } catch (err) {
    if (err.code !== "unknown_session") throw err;
    teach.session = null;  // the server no longer has it: start a new session and try once more
    await teachSession();
    info = await post();
  }
  showCounts(info);
  showInput(info.input, blob);
  $("result-meta").textContent = `stored sample ${info.counts[letter]} of ${letter}` + cropNote(info.input);
  return info;
}

async function teachCapture() {
  if (!state.stream || teach.busy) return;
  const n = Math.max(1, Math.min(30, parseInt($("teach-n").value, 10) || 5)), letter = $("teach-letter").value;
  teach.busy = true;
  $("teach-capture").disabled = true;
  try {
    for (let i = 1; i <= n; i++) {
      teachStatus(`Hold ${letter}: sample ${i} of ${n}… (move your hand a little between samples)`);
      await addSample(await frameBlob(), "image/png");
      await new Promise((r) => setTimeout(r, 400));
    }
    teachStatus(`${n} samples of ${letter} stored.`);
    const select = $("teach-letter");
    select.selectedIndex = Math.min(select.options.length - 1, select.selectedIndex + 1);
  } catch (err) {
    teachStatus(`Capture failed: ${err.message}`);
  } finally {
    teach.busy = false;
    $("teach-capture").disabled = !state.stream;
    $("teach-train").disabled = !teach.total;
  }
}

async function teachFiles(files) {
  let stored = 0;
  for (const file of files) {
    try { await addSample(file, file.type); stored++; }
    catch (err) { teachStatus(`${file.name}: ${err.message}`); return; }
  }
  teachStatus(`${stored} photo(s) of ${$("teach-letter").value} stored.`);
}

async function teachDelete() {
  try {
    await teachSession();
    showCounts(await teachFetch(`/sessions/${teach.session}/samples/${$("teach-letter").value}`, { method: "DELETE" }));
    teachStatus(`Samples of ${$("teach-letter").value} deleted.`);
  } catch (err) { teachStatus(`Delete failed: ${err.message}`); }
}

async function teachTrain() {
  const base = $("model-select").value || null, bar = $("teach-progress");
  teach.busy = true;
  $("teach-train").disabled = true;
  try {
    let job = await teachFetch(`/sessions/${teach.session}/finetune`, {
      method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ base }) });
    bar.max = job.epochs;
    bar.hidden = false;
    while (job.status === "running") {
      bar.value = job.epoch;
      teachStatus(`Training your model: epoch ${job.epoch} of ${job.epochs}…`);
      await new Promise((r) => setTimeout(r, 1000));
      job = await teachFetch(`/jobs/${job.id}`);
    }
    bar.value = job.epoch;
    if (job.status !== "done") throw new Error(job.error || "training failed");
    await loadModels(job.model);
    teachStatus(`Your model ${job.model} is ready and selected` + (job.registered ? ` (registered as ${job.registered}).` : "."));
  } catch (err) {
    teachStatus(`Training failed: ${err.message}`);
  } finally {
    teach.busy = false;
    bar.hidden = true;
    teachSession().then(showCounts).catch(() => {});
  }
}

// --- setup -------------------------------------------------------------------------------------
async function loadModels(select = null) {
  try {
    const info = await (await fetch("/v1/models")).json();
    state.letters = info.letters;
    const ab = Object.keys(info.traffic || {}).length > 1 && !select;
    const chosen = select || info.default;
    const options = info.models.map((m) => new Option(`${m.name} (${m.version})`, m.name, !ab && m.name === chosen, !ab && m.name === chosen));
    if (ab) options.unshift(new Option("automatic (A/B test)", "", true, true));
    $("model-select").replaceChildren(...options);
    $("feedback-letter").replaceChildren(...info.letters.map((l) => new Option(l, l)));
    const teaching = $("teach-letter").value;
    $("teach-letter").replaceChildren(...info.letters.map((l) => new Option(l, l, false, l === teaching)));
    $("hold-ms").value = info.fingerspelling.hold_ms;
    $("hold-conf").value = info.fingerspelling.confidence;
    drawChart({}, null);
    if (teach.session) teachSession().then(showCounts).catch(() => showCounts({}));
    else showCounts({});
  } catch (err) {
    status(`Could not reach the signlens server: ${err.message}`, true);
  }
}

function buildAlphabet() {
  Object.entries(HANDSHAPES).forEach(([letter, text], i) => {
    const li = document.createElement("li"), tile = document.createElement("span"), label = document.createElement("span");
    tile.className = "tile";
    tile.style.backgroundPosition = `${-56 * i}px 0`;
    tile.setAttribute("role", "img");
    tile.setAttribute("aria-label", `ASL letter ${letter}`);
    label.innerHTML = `<b>${letter}</b>${text}`;
    li.append(tile, label);
    $("alphabet").append(li);
  });
}

function setup() {
  buildAlphabet();
  loadModels();
  $("camera-start").addEventListener("click", () => (state.stream ? stopCamera() : startCamera()));
  $("capture").addEventListener("click", captureOnce);
  $("feedback").addEventListener("submit", sendFeedback);
  $("live-toggle").addEventListener("click", () => setLive(!state.live));
  $("file-input").addEventListener("change", (e) => predictFile(e.target.files[0]));
  const drop = $("drop");
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file-input").click(); } });
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); predictFile(e.dataTransfer.files[0]); });
  $("teach-capture").addEventListener("click", teachCapture);
  $("teach-files").addEventListener("change", (e) => { teachFiles([...e.target.files]); e.target.value = ""; });
  $("teach-delete").addEventListener("click", teachDelete);
  $("teach-train").addEventListener("click", teachTrain);
  $("space").addEventListener("click", acceptBest);
  $("backspace").addEventListener("click", backspace);
  $("type-j").addEventListener("click", () => typeLetter("J", null));
  $("type-z").addEventListener("click", () => typeLetter("Z", null));
  $("clear").addEventListener("click", () => { word.done = ""; resetWord(); });
  $("word-form").addEventListener("submit", addWord);
  showMyWords();
  $("copy").addEventListener("click", async () => {
    try { await navigator.clipboard.writeText($("spelled").value); status("Text copied."); }
    catch { $("spelled").select(); status("Press Ctrl+C to copy the selected text."); }
  });
  window.addEventListener("resize", placeGuide);
  $("video").addEventListener("loadedmetadata", placeGuide);
  document.addEventListener("keydown", (e) => {
    if (e.target.matches("input, select, textarea") || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "Backspace") { e.preventDefault(); backspace(); }
    if (e.key === " " && !e.target.matches("button, label")) { e.preventDefault(); acceptBest(); }
    if (e.key === "c") captureOnce();
    if (e.key === "l" && state.stream) setLive(!state.live);
  });
}

document.addEventListener("DOMContentLoaded", setup);
