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
const ready = human.load().then(() => parentPort.postMessage({ type: "ready" }), (error) => parentPort.postMessage({ type: "load-error", message: String((error && error.message) || error) }));

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
    parentPort.postMessage({ type: "result", id: job.id, faces, error: result.error || null });
  } catch (error) {
    parentPort.postMessage({ type: "result", id: job.id, faces: [], error: String((error && error.message) || error) });
  } finally {
    input.dispose();
  }
});
`;
