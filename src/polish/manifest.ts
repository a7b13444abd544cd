/**
 * `polished/polish-manifest.json`: what polish did to each image, written atomically after every
 * step so a run killed at any moment resumes without losing or re-buying anything (the same rule
 * as gen's manifest: a paid create is recorded as "creating" with its exact inputs before it is
 * sent, and its id as soon as it exists, before any waiting).
 */
import { readFile } from "node:fs/promises";
import { writeJsonAtomic } from "../util/atomic-write.js";
import type { Box, Region } from "./geometry.js";
import type { PolishSettings } from "./plan.js";

export const POLISH_MANIFEST = "polish-manifest.json";

/** A paid remote step (face pass or upscale): uploaded -> creating -> created -> done. */
export interface RemoteStep {
  status: "pending" | "uploaded" | "creating" | "created" | "done" | "failed";
  uploads?: Record<string, string>;
  /** The exact inputs sent (files as URLs). */
  inputs?: Record<string, unknown>;
  /** When the create was about to be sent: where a recovery search starts. */
  creatingAt?: string;
  remoteId?: string;
  /** Earlier remote ids of this step that ended without a result: never adopted again. */
  failedIds?: string[];
  modelRef?: string;
  costUsd?: number;
  /** The step's output on disk (relative to the polished folder). */
  output?: string;
  error?: string;
}

export interface FaceEntry extends RemoteStep {
  index: number;
  /** Detector box in full-size image pixels. */
  box: Box;
  region: Region;
  seed: number;
  /** Colour transfer applied at the seam (per channel). */
  colour?: { gain: number[]; offset: number[] };
}

export interface ScoreBrief {
  relative?: number;
  similarity?: number;
  verdict: string;
  quality: number;
  faces: number;
}

export interface PolishEntry {
  /** The image polished, relative to the folder. */
  file: string;
  sourceSha256: string;
  width: number;
  height: number;
  status: "planned" | "running" | "done" | "skipped" | "failed";
  prompt: string;
  strength: number;
  /** The face pass's sampler (absent in manifests written before it was a setting). */
  sampler?: { steps: number; guidance: number; loraScale: number };
  faces: FaceEntry[];
  /** The face-pass result at the original size (both versions stay on disk). */
  after?: { file: string; sha256: string };
  scores?: { before: ScoreBrief; after: ScoreBrief };
  /** Which version the final file is made from, and why. */
  decision?: "polished" | "original";
  reason?: string;
  upscale?: RemoteStep & { scale: number; kind: string };
  final?: { file: string; sha256: string; width: number; height: number };
  /** Why nothing was done (no face), or what failed. */
  note?: string;
}

export interface PolishManifest {
  schemaVersion: 1;
  kind: "headshot-polish";
  identity: string;
  backend: string;
  model: string;
  placeholder: boolean;
  settings: PolishSettings;
  createdAt: string;
  updatedAt: string;
  images: Record<string, PolishEntry>;
}

export async function readPolishManifest(path: string): Promise<PolishManifest | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return undefined;
  }
  const data = JSON.parse(text) as PolishManifest;
  return data.kind === "headshot-polish" ? data : undefined;
}

/** Serialises writes: callers mutate the object, then `save()`; the last state always lands. */
export class ManifestWriter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly data: PolishManifest,
    private readonly now: () => Date = () => new Date(),
  ) {}

  save(): Promise<void> {
    this.data.updatedAt = this.now().toISOString();
    const snapshot = JSON.parse(JSON.stringify(this.data)) as PolishManifest;
    this.chain = this.chain.then(() => writeJsonAtomic(this.path, snapshot));
    return this.chain;
  }
}
