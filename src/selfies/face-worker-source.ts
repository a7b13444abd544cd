/**
 * The code each face-model worker thread runs (CommonJS, evaluated with `new Worker(src, { eval })`
 * so it works the same from the TypeScript sources under test and from the built dist/).
 * It only loads Human and runs it; every decision on the results is made in faces.ts.
 *
 * Quirks followed (vladmandic/human, the faceres model, all checked by running):
 * - the package's `exports` keys lack "./", so the node-wasm build is loaded by file path;
 * - `wasmPath` defaults to a CDN: it points at the local @tensorflow/tfjs-backend-wasm/dist/;
 * - model URLs on file:// fail under Node's fetch: a tfjs IO router reads them from disk (no
 *   global fetch patch).
 *
 * Likeness descriptor (issue 18): @vladmandic/face-api's port of dlib's ResNet face descriptor
 * (128 values), run on the same tensor and the same tfjs WASM backend as Human. Its descriptor is
 * only good on the face chip it was trained with: dlib's alignment box from 68 landmarks, cut by
 * face-api itself (face-api src/globalApi/ComputeFaceDescriptorsTasks.ts, src/classes/
 * FaceLandmarks.ts `alignDlib`). Measured on real photos (test/bench/LIKENESS.md): face-api's own
 * SSD + 68 landmarks + descriptor had an equal error rate of 0.07% on the faces SSD finds; the same
 * descriptor on a chip cut from Human's box or mesh, 1.5-3%. face-api's SSD costs most of the time
 * on the CPU, so by default the landmarks start from Human's box and are re-run on a box framed like
 * SSD's (describeFromBox): 1.36% on the whole set, against 0.92% with SSD first, at about a third
 * of the time per photo. HEADSHOT_LIKENESS_DETECTOR=ssd runs SSD first (each Human face takes the
 * descriptor of the face-api face it overlaps; faces SSD misses fall back to Human's box).
 */
export const FACE_WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require("node:worker_threads");
const { readFile } = require("node:fs/promises");
const { dirname, join } = require("node:path");
const { fileURLToPath } = require("node:url");
const tf = require(workerData.tfCore);

async function loadArtifacts(url) {
  const file = fileURLToPath(url);
  const json = JSON.parse(await readFile(file, "utf8"));
  const specs = [];
  const shards = [];
  for (const group of json.weightsManifest) {
    specs.push(...group.weights);
    for (const shard of group.paths) shards.push(await readFile(join(dirname(file), shard)));
  }
  const all = Buffer.concat(shards);
  return {
    modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy,
    convertedBy: json.convertedBy, signature: json.signature, userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
  };
}
tf.io.registerLoadRouter((url) => (typeof url === "string" && url.startsWith("file://") ? { load: () => loadArtifacts(url) } : null));

const { Human } = require(workerData.humanFile);
const human = new Human(workerData.config);
const faceapi = require(workerData.faceApiFile);
async function loadAll() {
  await human.load();
  if (workerData.likenessDetector === "ssd") await faceapi.nets.ssdMobilenetv1.loadFromDisk(workerData.faceApiModelDir);
  await faceapi.nets.faceLandmark68Net.loadFromDisk(workerData.faceApiModelDir);
  await faceapi.nets.faceRecognitionNet.loadFromDisk(workerData.faceApiModelDir);
}
const ready = loadAll().then(() => parentPort.postMessage({ type: "ready" }), (error) => parentPort.postMessage({ type: "load-error", message: String((error && error.message) || error) }));

function overlap(a, b) {
  const x = Math.max(0, Math.min(a[0] + a[2], b[0] + b[2]) - Math.max(a[0], b[0]));
  const y = Math.max(0, Math.min(a[1] + a[3], b[1] + b[3]) - Math.max(a[1], b[1]));
  return (x * y) / Math.max(1, Math.min(a[2] * a[3], b[2] * b[3]));
}

// face-api's nets take a square input (vladmandic/face-api): extractFaceTensors slices the box
// out of the frame (src/dom/extractFaceTensors.ts, box clipped and floored by Box.clipAtImageBorders), NetInput.
// toBatchTensor pads it to a square with zeros, centred (src/ops/padToSquare.ts), then resizes it
// with resizeBilinear (no align-corners, no half-pixel centres) to 112 (landmarks) or 150
// (descriptor). Done that way each pass copies, pads and casts the whole crop at the photo's
// resolution: a third of the descriptor's time (measured with tf.profile). The same bilinear taps
// are gathered here straight from a float32 frame, two rows and two columns per output pixel, with
// weight 0 on the padding: the same numbers for a fraction of the work (descriptors within float
// rounding of face-api's own path on the real set, test/bench/LIKENESS.md).
function taps(start, length, side, size) {
  // Output i samples the padded axis at i * side / size; the padding holds "before" zeros first.
  const before = side - length - Math.round((side - length) * 0.5);
  const lo = new Int32Array(size), hi = new Int32Array(size), wLo = new Float32Array(size), wHi = new Float32Array(size);
  // In float32, as tfjs-backend-wasm's ResizeBilinear kernel computes it (tensorflow/tfjs
  // tfjs-backend-wasm/src/cc/kernels/ResizeBilinear.cc: y * (old / new)).
  const scale = Math.fround(side / size);
  for (let i = 0; i < size; i++) {
    const src = Math.fround(i * scale), top = Math.floor(src), bottom = Math.min(side - 1, Math.ceil(src)), frac = src - top;
    const real = (k) => k >= before && k < before + length;
    lo[i] = real(top) ? start + top - before : start;
    hi[i] = real(bottom) ? start + bottom - before : start;
    wLo[i] = real(top) ? 1 - frac : 0;
    wHi[i] = real(bottom) ? frac : 0;
  }
  return { lo, hi, wLo, wHi };
}

function netInput(frame, rect, size) {
  const H = frame.shape[1], W = frame.shape[2];
  const cx = Math.max(rect.x, 0), cy = Math.max(rect.y, 0);
  const x = Math.floor(cx), y = Math.floor(cy);
  const w = Math.floor(Math.min(rect.x + rect.width - cx, W - cx)), h = Math.floor(Math.min(rect.y + rect.height - cy, H - cy));
  if (!(w > 0 && h > 0)) return null;
  const side = Math.max(w, h), rows = taps(y, h, side, size), cols = taps(x, w, side, size);
  const tensor = tf.tidy(() => {
    const weight = (v, shape) => tf.tensor(v, shape, "float32");
    const r = tf.add(tf.mul(tf.gather(frame, rows.lo, 1), weight(rows.wLo, [1, size, 1, 1])), tf.mul(tf.gather(frame, rows.hi, 1), weight(rows.wHi, [1, size, 1, 1])));
    return tf.add(tf.mul(tf.gather(r, cols.lo, 2), weight(cols.wLo, [1, 1, size, 1])), tf.mul(tf.gather(r, cols.hi, 2), weight(cols.wHi, [1, 1, size, 1])));
  });
  // Where face-api maps the square back to the crop: it assumes (side - w) / 2 of padding before
  // the crop (src/faceLandmarkNet/FaceLandmark68NetBase.ts postProcess), even when padToSquare
  // put a pixel less there.
  return { tensor, x, y, w, h, side, x0: x - (side - w) / 2, y0: y - (side - h) / 2 };
}

// The chip face-api's recogniser expects: dlib's alignment box from the eyes and mouth
// (FaceLandmarks.align with useDlibAlignment, as src/globalApi/ComputeFaceDescriptorsTasks.ts does).
async function describeFromLandmarks(frame, landmarks) {
  const chip = netInput(frame, landmarks.align(null, { useDlibAlignment: true }), 150);
  if (!chip) return [];
  try { return Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(chip.tensor)); } finally { chip.tensor.dispose(); }
}

// 68 landmarks on a box of the frame, in frame coordinates.
async function landmarksIn(frame, rect) {
  const crop = netInput(frame, rect, 112);
  if (!crop) throw new Error("empty face box");
  try {
    const marks = await faceapi.nets.faceLandmark68Net.detectLandmarks(crop.tensor);
    // As face-api returns them: relative to the unpadded crop, whose size also bounds the dlib
    // alignment box later (FaceLandmarks.alignDlib clips it to imageDims + shift).
    const rel = marks.relativePositions.map((p) => new faceapi.Point((crop.x0 + p.x * crop.side - crop.x) / crop.w, (crop.y0 + p.y * crop.side - crop.y) / crop.h));
    return new faceapi.FaceLandmarks68(rel, { width: crop.w, height: crop.h }).shiftBy(crop.x, crop.y);
  } finally { crop.tensor.dispose(); }
}

// The 68-landmark net places its points well only on a box framed as face-api's SSD frames a face
// (its usual input). SSD's box against the bounding box of its own 68 landmarks, measured on 19
// faces of the real set: x +0.02 w (sd 0.04), y -0.29 h (sd 0.07), width 0.97 w, height 1.30 h.
function ssdLikeBox(marks, width, height) {
  const xs = marks.positions.map((p) => p.x), ys = marks.positions.map((p) => p.y);
  const lx = Math.min(...xs), ty = Math.min(...ys), w = Math.max(...xs) - lx, h = Math.max(...ys) - ty;
  const x = Math.max(0, Math.round(lx + 0.02 * w)), y = Math.max(0, Math.round(ty - 0.29 * h));
  return new faceapi.Rect(x, y, Math.max(1, Math.min(width - x, Math.round(0.97 * w))), Math.max(1, Math.min(height - y, Math.round(1.3 * h))));
}

// Landmarks from Human's square box, then twice on the SSD-like box of the previous points: on the
// real set this took the equal error rate from 2.3% (one pass) to 1.5% (two) and 0.77% (three),
// as good as running SSD first (0.92%) at a fifth of its cost (test/bench/LIKENESS.md).
const REFINE_PASSES = 2;

// A face without an SSD detection (always, unless HEADSHOT_LIKENESS_DETECTOR=ssd; with SSD, the
// small or low-resolution faces it misses): landmarks from Human's box, refined, then the chip.
async function describeFromBox(frame, width, height, box) {
  const side = Math.max(box[2], box[3]);
  const x = Math.max(0, Math.round(box[0] + box[2] / 2 - side / 2)), y = Math.max(0, Math.round(box[1] + box[3] / 2 - side / 2));
  let marks = await landmarksIn(frame, new faceapi.Rect(x, y, Math.min(width - x, Math.round(side)), Math.min(height - y, Math.round(side))));
  for (let i = 0; i < REFINE_PASSES; i++) marks = await landmarksIn(frame, ssdLikeBox(marks, width, height));
  return describeFromLandmarks(frame, marks);
}

async function detectSsd(input) {
  const frame3d = input.squeeze([0]);
  try { return await faceapi.detectAllFaces(frame3d, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 20 })).withFaceLandmarks(); } finally { frame3d.dispose(); }
}

// frame: the float32 [1, height, width, 3] tensor Human ran on (disposed by the caller).
async function describe(frame, width, height, humanFaces) {
  if (!humanFaces.length) return [];
  const found = workerData.likenessDetector === "ssd" ? await detectSsd(frame) : [];
  const out = [];
  for (const f of humanFaces) {
    let best = null, bestOverlap = 0.3;
    for (const g of found) {
      const b = g.detection.box;
      const o = overlap(f.box, [b.x, b.y, b.width, b.height]);
      if (o > bestOverlap) { best = g; bestOverlap = o; }
    }
    out.push(best ? await describeFromLandmarks(frame, best.landmarks) : await describeFromBox(frame, width, height, f.box));
  }
  return out;
}

parentPort.on("message", async (job) => {
  await ready;
  // float32 from the start: Human casts an int32 input to float32 anyway (src/image/image.ts), and
  // face-api's inputs are gathered from the same tensor: one full-size copy instead of three.
  const pixels = new Float32Array(job.width * job.height * 3);
  pixels.set(new Uint8Array(job.data));
  const input = human.tf.tensor(pixels, [1, job.height, job.width, 3], "float32");
  try {
    const result = await human.detect(input);
    const faces = result.face.map((f) => ({
      box: Array.from(f.box),
      score: f.score,
      boxScore: typeof f.boxScore === "number" ? f.boxScore : f.score,
      angle: f.rotation && f.rotation.angle ? f.rotation.angle : null,
      embedding: f.embedding ? Array.from(f.embedding) : [],
    }));
    const descriptors = await describe(input, job.width, job.height, faces);
    faces.forEach((f, i) => { f.descriptor = descriptors[i] || []; });
    parentPort.postMessage({ type: "result", id: job.id, faces, error: result.error || null });
  } catch (error) {
    parentPort.postMessage({ type: "result", id: job.id, faces: [], error: String((error && error.message) || error) });
  } finally {
    input.dispose();
  }
});
`;
