// The page's logic: load the exported LiteRT model, turn images into the model's input, draw
// style codes, and show the translations. Everything runs here; nothing is sent anywhere.
import { loadAndCompile, loadLiteRt, Tensor } from "./litert/litert.js";

const $ = (id) => document.getElementById(id);
const statusLine = $("status");

function say(text, isError = false) {
  statusLine.textContent = text;
  statusLine.classList.toggle("error", isError);
}

// A seeded generator (mulberry32) and Box-Muller: the same seed gives the same style codes.
function normalCodes(seed, count, dim) {
  let state = seed >>> 0;
  const uniform = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const codes = [];
  for (let k = 0; k < count; k++) {
    const code = new Float32Array(dim);
    for (let i = 0; i < dim; i++) {
      const u = 1 - uniform(); // in (0, 1]
      code[i] = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * uniform());
    }
    codes.push(code);
  }
  return codes;
}

// An image (bitmap or canvas) as the model's input: the shorter side resized to S and the centre
// cropped, as training prepared its images; pixels to [-1, 1], [1, S, S, C].
function toInput(source, size, channels, view) {
  const side = Math.min(source.width, source.height);
  const canvas = view || document.createElement("canvas");
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.imageSmoothingQuality = "high";
  context.drawImage(
    source, (source.width - side) / 2, (source.height - side) / 2, side, side, 0, 0, size, size,
  );
  const rgba = context.getImageData(0, 0, size, size).data;
  const values = new Float32Array(size * size * channels);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < channels; c++) {
      values[p * channels + c] = rgba[p * 4 + (channels === 1 ? 0 : c)] / 127.5 - 1;
    }
  }
  return values;
}

function draw(canvas, values, size, channels) {
  canvas.width = canvas.height = size;
  const context = canvas.getContext("2d");
  const image = context.createImageData(size, size);
  for (let p = 0; p < size * size; p++) {
    for (let c = 0; c < 3; c++) {
      const v = values[p * channels + (channels === 1 ? 0 : c)];
      image.data[p * 4 + c] = Math.round(Math.min(255, Math.max(0, (v + 1) * 127.5)));
    }
    image.data[p * 4 + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

class Translator {
  constructor(model, manifest) {
    this.model = model;
    this.manifest = manifest;
    this.size = manifest.image_size;
    this.styleDim = manifest.style_dim;
  }

  // One function of the export on Float32Arrays; returns the output's Float32Array.
  async run(name, inputs) {
    const spec = this.manifest.functions[name];
    const tensors = {};
    for (const input of spec.inputs) {
      tensors[input.name] = new Tensor(inputs[input.name], input.shape);
    }
    const outputs = await this.model.run(name, tensors);
    for (const tensor of Object.values(tensors)) tensor.delete();
    const output = outputs[spec.output.name];
    const moved = await output.moveTo("wasm");
    const values = Float32Array.from(moved.toTypedArray());
    for (const tensor of new Set([output, moved, ...Object.values(outputs)])) tensor.delete();
    return values;
  }
}

const page = {
  translator: null,
  image: null, // the picture given (a bitmap or the drawing)
  source: null, // it as the model's input, [1, S, S, C] values
  content: null, // its content code
  codes: [],
  runs: 0,
};
window.munit = page; // read by tests (codes, runs) and handy in the console

function directions() {
  const direction = $("direction").value;
  return { direction, from: direction[0], to: direction[2] };
}

async function translateAll() {
  const t = page.translator;
  if (!t || !page.source) return;
  const { from, to } = directions();
  const channels = t.manifest.channels[to];
  say("Translating…");
  const started = performance.now();
  page.content = await t.run(`encode_content_${from}`, { images: page.source });
  const count = Math.max(1, Math.min(16, Number($("count").value) || 1));
  page.codes = normalCodes(Number($("seed").value) || 0, count, t.styleDim);
  const box = $("translations");
  box.replaceChildren();
  for (const code of page.codes) {
    const out = await t.run(`decode_${to}`, { content: page.content, styles: code });
    const canvas = document.createElement("canvas");
    canvas.className = "image translation";
    box.appendChild(canvas);
    draw(canvas, out, t.size, channels);
  }
  await walk();
  page.runs += 1;
  const ms = (performance.now() - started) / count;
  say(`${count} translations (${ms.toFixed(0)} ms each, content encoded once).`);
}

async function walk() {
  const t = page.translator;
  if (!t || !page.content || page.codes.length === 0) return;
  const a = page.codes[0];
  const b = page.codes[page.codes.length > 1 ? 1 : 0];
  const s = Number($("walk").value) / 100;
  const code = a.map((v, i) => (1 - s) * v + s * b[i]);
  const { to } = directions();
  const out = await t.run(`decode_${to}`, { content: page.content, styles: code });
  draw($("walked"), out, t.size, t.manifest.channels[to]);
}

async function guided(file) {
  const t = page.translator;
  const bitmap = await readImage(file);
  if (!bitmap || !t) return;
  if (!page.content) {
    say("Open or draw an input image first, then the reference.", true);
    return;
  }
  const { to } = directions();
  const channels = t.manifest.channels[to];
  const reference = toInput(bitmap, t.size, channels, $("reference-view"));
  const style = await t.run(`encode_style_${to}`, { images: reference });
  const out = await t.run(`decode_${to}`, { content: page.content, styles: style });
  draw($("guided"), out, t.size, channels);
  say("Translated in the reference's style.");
}

async function readImage(file) {
  if (!file) return null;
  try {
    return await createImageBitmap(file);
  } catch {
    say(`${file.name} is not an image this browser can read (try a PNG or JPEG).`, true);
    return null;
  }
}

async function useImage(source) {
  const t = page.translator;
  page.image = source;
  const { from } = directions();
  page.source = toInput(source, t.size, t.manifest.channels[from], $("source"));
  await translateAll();
}

function setUpSketch(manifest) {
  const canvas = $("sketch");
  const context = canvas.getContext("2d");
  const sketch = manifest.sketch;
  const clear = () => {
    context.fillStyle = `rgb(${sketch.background.join(",")})`;
    context.fillRect(0, 0, canvas.width, canvas.height);
  };
  clear();
  context.strokeStyle = `rgb(${sketch.ink.join(",")})`;
  context.lineWidth = (sketch.line_width * canvas.width) / manifest.image_size;
  context.lineCap = context.lineJoin = "round";
  let drawing = false;
  const at = (event) => {
    const box = canvas.getBoundingClientRect();
    return [
      ((event.clientX - box.left) * canvas.width) / box.width,
      ((event.clientY - box.top) * canvas.height) / box.height,
    ];
  };
  canvas.addEventListener("pointerdown", (event) => {
    drawing = true;
    context.beginPath();
    context.moveTo(...at(event));
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drawing) return;
    context.lineTo(...at(event));
    context.stroke();
  });
  for (const name of ["pointerup", "pointerleave"]) {
    canvas.addEventListener(name, () => (drawing = false));
  }
  $("clear").addEventListener("click", clear);
  $("use-sketch").addEventListener("click", () => useImage(canvas));
}

async function start() {
  let manifest;
  try {
    const response = await fetch("./manifest.json");
    if (!response.ok) throw new Error(`manifest.json: HTTP ${response.status}`);
    manifest = await response.json();
    await loadLiteRt("./litert/wasm/");
    const model = await loadAndCompile(`./${manifest.files.decode_a}`, { accelerator: "wasm" });
    page.translator = new Translator(model, manifest);
  } catch (error) {
    say(`The model failed to load: ${error.message || error}. Serve this folder over HTTP ` +
        "(python -m http.server) and keep its files together.", true);
    page.failed = String(error);
    return;
  }
  setUpSketch(manifest);
  $("file").addEventListener("change", async (event) => {
    const bitmap = await readImage(event.target.files[0]);
    if (bitmap) await useImage(bitmap);
  });
  $("reference").addEventListener("change", (event) => guided(event.target.files[0]));
  $("again").addEventListener("click", async () => {
    $("seed").value = Number($("seed").value) + 1;
    await translateAll();
  });
  // the same picture, read as an image of the other domain
  $("direction").addEventListener("change", () => page.image && useImage(page.image));
  $("walk").addEventListener("input", () => walk());
  say(`Ready: ${manifest.config} model, ${manifest.image_size}×${manifest.image_size}. ` +
      "Open an image or draw an outline.");
  page.ready = true;
}

start();
