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

// The chip face-api's recogniser expects: dlib's alignment box from the eyes and mouth, cut by
// face-api's own extractFaceTensors (as src/globalApi/ComputeFaceDescriptorsTasks.ts does).
async function describeFromLandmarks(frame, landmarks) {
  const [chip] = await faceapi.extractFaceTensors(frame, [landmarks.align(null, { useDlibAlignment: true })]);
  try { return Array.from(await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(chip)); } finally { chip.dispose(); }
}

// 68 landmarks on a box of the frame, in frame coordinates.
async function landmarksIn(frame, rect) {
  const [crop] = await faceapi.extractFaceTensors(frame, [rect]);
  try { return (await faceapi.nets.faceLandmark68Net.detectLandmarks(crop)).shiftBy(rect.x, rect.y); } finally { crop.dispose(); }
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

async function describe(input, width, height, humanFaces) {
  if (!humanFaces.length) return [];
  const frame = input.squeeze([0]);
  try {
    const found = workerData.likenessDetector === "ssd" ? await faceapi.detectAllFaces(frame, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5, maxResults: 20 })).withFaceLandmarks() : [];
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
  } finally {
    frame.dispose();
  }
}

parentPort.on("message", async (job) => {
  await ready;
  const input = human.tf.tensor(new Uint8Array(job.data), [1, job.height, job.width, 3], "int32");
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
