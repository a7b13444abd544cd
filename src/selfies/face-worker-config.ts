/**
 * Where the face-model workers find their code, weights and WASM binaries (resolved from the
 * installed packages), and Human's settings for still photos (faces.ts runs the pool).
 * - Human's default `maxDetected` is 1, which would hide group shots: raised to 10.
 * - Human is tuned for video and reuses the last frame's results when the input looks similar;
 *   photos are independent and results must be reproducible, so every cache is off.
 */
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { DependencyError } from "../errors.js";

const MAX_DETECTED = 10;

export interface WorkerPaths {
  humanFile: string;
  faceApiFile: string;
  faceApiModelDir: string;
  modelDir: string;
  wasmDir: string;
  tfCore: string;
}

export function packagePaths(): WorkerPaths {
  const require = createRequire(import.meta.url);
  try {
    // "require" resolves to dist/human.node.js; its sibling is the WASM build we want.
    const humanDist = dirname(require.resolve("@vladmandic/human"));
    const faceApiRoot = dirname(require.resolve("@vladmandic/face-api/package.json"));
    return {
      humanFile: join(humanDist, "human.node-wasm.js"),
      // The node-wasm build shares @tensorflow/tfjs-backend-wasm with Human (one backend per worker).
      faceApiFile: join(faceApiRoot, "dist", "face-api.node-wasm.js"),
      faceApiModelDir: join(faceApiRoot, "model"),
      modelDir: join(humanDist, "..", "models"),
      wasmDir: join(dirname(require.resolve("@tensorflow/tfjs-backend-wasm")), "/"),
      tfCore: require.resolve("@tensorflow/tfjs-core"),
    };
  } catch (error) {
    throw new DependencyError("The face models (@vladmandic/human, @vladmandic/face-api, @tensorflow/tfjs-backend-wasm) are not installed.", {
      hint: "Reinstall headshot: npm install -g headshot",
      cause: error,
    });
  }
}

export function humanConfig(paths: WorkerPaths): Record<string, unknown> {
  return {
    backend: "wasm",
    wasmPath: paths.wasmDir,
    modelBasePath: pathToFileURL(paths.modelDir).href + "/",
    cacheModels: false,
    debug: false,
    warmup: "none",
    cacheSensitivity: 0,
    face: {
      enabled: true,
      detector: { maxDetected: MAX_DETECTED, rotation: false, minConfidence: 0.3, return: false, skipFrames: 0, skipTime: 0 },
      mesh: { enabled: true },
      iris: { enabled: false },
      // faceres is replaced by face-api's dlib descriptor (face-worker-source.ts): one CNN pass less.
      description: { enabled: false },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      attention: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    gesture: { enabled: false },
    segmentation: { enabled: false },
    filter: { enabled: false },
  };
}
