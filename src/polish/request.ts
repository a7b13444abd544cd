/** What a polish run is given and what it reports (types only; run-polish.ts runs it). */
import type { IdentityReference } from "../scoring/similarity.js";
import type { FacePassBackend } from "./backends/types.js";
import type { PolishSettings } from "./plan.js";
import type { Upscaler } from "./upscale.js";

export type PolishEvent =
  | { type: "polish.image.started"; file: string; index: number; total: number }
  | { type: "polish.face.creating"; file: string; face: number }
  | { type: "polish.face.created"; file: string; face: number; remoteId: string }
  | { type: "polish.image.done"; file: string; decision: string; reason: string; before?: number | undefined; after?: number | undefined; final: string; costUsd: number }
  | { type: "polish.image.skipped"; file: string; reason: string }
  | { type: "polish.progress"; done: number; total: number; etaSeconds: number | undefined };

export interface PolishRequest {
  dir: string;
  identity: string;
  prompt: string;
  settings: PolishSettings;
  backend: FacePassBackend;
  upscaler?: Upscaler | undefined;
  reference: IdentityReference;
  home?: string | undefined;
  /** Files to polish (names in dir); default: every image at the top of the folder. */
  files?: string[] | undefined;
  signal: AbortSignal;
  onEvent?: (event: PolishEvent) => void;
  now?: () => Date;
}
