// prototype: embeddings of every photo in a set with faceres, face-api full, and hybrid crops
const fs = require('node:fs'); const path = require('node:path'); const { pathToFileURL, fileURLToPath } = require('node:url');
const sharp = require('sharp');
const tf = require('@tensorflow/tfjs-core');
async function loadArtifacts(url) {
  const file = fileURLToPath(url); const json = JSON.parse(fs.readFileSync(file, 'utf8'));
  const specs = []; const shards = [];
  for (const g of json.weightsManifest) { specs.push(...g.weights); for (const s of g.paths) shards.push(fs.readFileSync(path.join(path.dirname(file), s))); }
  const all = Buffer.concat(shards);
  return { modelTopology: json.modelTopology, format: json.format, generatedBy: json.generatedBy, convertedBy: json.convertedBy, signature: json.signature, userDefinedMetadata: json.userDefinedMetadata, weightSpecs: specs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) };
}
tf.io.registerLoadRouter((url) => (typeof url === 'string' && url.startsWith('file://') ? { load: () => loadArtifacts(url) } : null));
const humanDist = path.dirname(require.resolve('@vladmandic/human'));
const { Human } = require(path.join(humanDist, 'human.node-wasm.js'));
const faceapi = require('@vladmandic/face-api/dist/face-api.node-wasm.js');
const cfg = { backend: 'wasm', wasmPath: path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm')) + '/', modelBasePath: pathToFileURL(path.join(humanDist, '..', 'models')).href + '/', cacheModels: false, debug: false, warmup: 'none', cacheSensitivity: 0,
  face: { enabled: true, detector: { maxDetected: 10, rotation: false, minConfidence: 0.3, return: false, skipFrames: 0, skipTime: 0 }, mesh: { enabled: true }, iris: { enabled: false }, description: { enabled: true, skipFrames: 0, skipTime: 0 }, emotion: { enabled: false }, antispoof: { enabled: false }, liveness: { enabled: false }, attention: { enabled: false } },
  body: { enabled: false }, hand: { enabled: false }, object: { enabled: false }, gesture: { enabled: false }, segmentation: { enabled: false }, filter: { enabled: false } };
(async () => {
  const human = new Human(cfg); await human.load();
  const mdir = path.join(path.dirname(require.resolve('@vladmandic/face-api/package.json')), 'model');
  await faceapi.nets.ssdMobilenetv1.loadFromDisk(mdir); await faceapi.nets.faceLandmark68Net.loadFromDisk(mdir); await faceapi.nets.faceRecognitionNet.loadFromDisk(mdir);
  console.error('backend', tf.getBackend(), faceapi.tf.getBackend());
  const root = process.argv[2]; const out = [];
  for (const person of fs.readdirSync(root).sort()) for (const file of fs.readdirSync(path.join(root, person)).sort()) {
    const p = path.join(root, person, file);
    const { data, info } = await sharp(p).rotate().resize({ width: 1024, height: 1024, fit: 'inside', withoutEnlargement: true }).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    const t4 = tf.tensor(new Uint8Array(data), [1, info.height, info.width, 3], 'int32');
    const r = await human.detect(t4);
    const faces = r.face.filter(f => f.score >= 0.5).sort((a, b) => b.box[2] * b.box[3] - a.box[2] * a.box[3]);
    const rec = { person, file, w: info.width, h: info.height, nHuman: faces.length };
    if (faces.length) {
      const f = faces[0]; rec.box = f.box; rec.faceres = Array.from(f.embedding || []); rec.roll = f.rotation?.angle?.roll ?? 0;
      const f32 = tf.cast(t4, 'float32');
      const mesh = f.mesh; const xs = [], ys = [];
      const SIL = [10,338,297,332,284,251,389,356,454,323,361,288,397,365,379,378,400,377,152,148,176,149,150,136,172,58,132,93,234,127,162,21,54,103,67,109];
      const BROW = [383,300,293,334,296,336,285,417,156,70,63,105,66,107,55,193];
      for (const i of SIL) xs.push(mesh[i][0]); for (const i of BROW) ys.push(mesh[i][1]);
      const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(...ys), y1 = mesh[152][1];
      for (const pad of [0.1, 0.2, 0.3]) {
        const w = (x1 - x0) * (1 + pad), h = (y1 - y0) * (1 + pad), cx = (x0 + x1) / 2, cy = (y0 + y1) / 2, s = Math.max(w, h);
        const box = [[(cy - s / 2) / info.height, (cx - s / 2) / info.width, (cy + s / 2) / info.height, (cx + s / 2) / info.width]];
        const chip = tf.image.cropAndResize(f32, box, [0], [150, 150]);
        const d = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(tf.squeeze(chip));
        rec['m' + pad] = Array.from(d); chip.dispose();
      }
      for (const bpad of [0.9, 1.0, 1.1]) {
        const [bx, by, bw, bh] = f.box; const bcx = bx + bw / 2, bcy = by + bh / 2, bs = Math.max(bw, bh) * bpad;
        const X0 = bcx - bs / 2, Y0 = bcy - bs / 2;
        const crop = tf.image.cropAndResize(f32, [[Y0 / info.height, X0 / info.width, (Y0 + bs) / info.height, (X0 + bs) / info.width]], [0], [224, 224]);
        const lm = await faceapi.nets.faceLandmark68Net.detectLandmarks(tf.squeeze(crop)); crop.dispose();
        const pts = lm.positions.map(p => [X0 + p.x / 224 * bs, Y0 + p.y / 224 * bs]);
        const lx = pts.map(p => p[0]), ly = pts.map(p => p[1]);
        let ax0 = Math.min(...lx), ax1 = Math.max(...lx), ay0 = Math.min(...ly), ay1 = Math.max(...ly);
        const pw = (ax1 - ax0) * 0.2, ph = (ay1 - ay0) * 0.2; ax0 -= pw / 2; ax1 += pw / 2; ay0 -= ph / 2; ay1 += ph / 2;
        ax0 = Math.max(0, ax0); ay0 = Math.max(0, ay0); ax1 = Math.min(info.width, ax1); ay1 = Math.min(info.height, ay1);
        const rw = ax1 - ax0, rh = ay1 - ay0, sc = 150 / Math.max(rw, rh), ow = Math.max(1, Math.round(rw * sc)), oh = Math.max(1, Math.round(rh * sc));
        const r = tf.image.cropAndResize(f32, [[ay0 / info.height, ax0 / info.width, ay1 / info.height, ax1 / info.width]], [0], [oh, ow]);
        const px = 150 - ow, py = 150 - oh;
        const chip = tf.pad(r, [[0, 0], [Math.floor(py / 2), py - Math.floor(py / 2)], [Math.floor(px / 2), px - Math.floor(px / 2)], [0, 0]]); r.dispose();
        const d = await faceapi.nets.faceRecognitionNet.computeFaceDescriptor(tf.squeeze(chip)); chip.dispose();
        rec['lm' + bpad] = Array.from(d);
      }
      f32.dispose();
    }
    if (process.env.FULL) { const t3 = tf.squeeze(t4);
    const fa = await faceapi.detectAllFaces(t3, new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 })).withFaceLandmarks().withFaceDescriptors();
    fa.sort((a, b) => b.detection.box.area - a.detection.box.area);
    rec.nFaceapi = fa.length; if (fa.length) rec.dlib = Array.from(fa[0].descriptor);
    t3.dispose(); } t4.dispose();
    out.push(rec); console.error(person, file, rec.nHuman, rec.nFaceapi);
  }
  fs.writeFileSync(process.argv[3], JSON.stringify(out));
})();
