/**
 * Polish settings and the pure parts of a polish plan: defaults, the face-focused prompt, the seed
 * of each face, and the cost estimate `--dry-run` prints. Nothing here touches disk or network.
 */
import { createHash } from "node:crypto";
import { DEFAULT_GENERATION, type GenerationSettings, type PolishPresetSettings } from "../presets/schema.js";
import { DEFAULT_CROP_FACTOR } from "./geometry.js";
import { percent as pct } from "../util/percent.js";

export interface PolishSettings {
  /**
   * How much of the face region the model may redraw (flux-fine-tuner `prompt_strength`). 0.35
   * keeps the face's structure and likeness while redrawing eyes, skin and hairline detail (the
   * range ADetailer users settle on is 0.3-0.45: github.com/Bing-su/adetailer wiki, denoising).
   */
  strength: number;
  /** Face box side x this = side of the square region. */
  cropFactor: number;
  /** 0 = no upscale; 2 = twice the width and height. */
  upscale: number;
  /**
   * The polished image is kept only if its likeness (relative, see identity/scoring.ts) is at
   * least the original's minus this margin. 0.03 = three points of "100% = like your selfies".
   */
  likenessMargin: number;
  /** At most this many faces per image are polished, largest first. */
  maxFaces: number;
  /** Base of every face's seed. */
  seed: number;
  /**
   * Sampler of the face pass: the preset's `polish.steps` / `polish.guidance`, else its
   * `generation.steps` / `generation.guidance` (the look the images were made with), else gen's
   * defaults (45 steps, guidance 2.5). Only the last `steps x strength` steps run (img2img).
   */
  steps: number;
  guidance: number;
  /** The identity LoRA's strength: the preset's `generation.loraScale`, else 1. */
  loraScale: number;
}

export const DEFAULT_POLISH: PolishSettings = {
  strength: 0.35,
  cropFactor: DEFAULT_CROP_FACTOR,
  upscale: 0,
  likenessMargin: 0.03,
  maxFaces: 3,
  seed: 0,
  steps: DEFAULT_GENERATION.steps,
  guidance: DEFAULT_GENERATION.guidance,
  loraScale: DEFAULT_GENERATION.loraScale,
};

export type PolishSampler = Pick<PolishSettings, "steps" | "guidance" | "loraScale">;

/** The face pass's sampler from a preset (polish section first, then its generation section). */
export function polishSampler(preset: { generation?: GenerationSettings | undefined; polish?: PolishPresetSettings | undefined } | undefined): PolishSampler {
  return {
    steps: preset?.polish?.steps ?? preset?.generation?.steps ?? DEFAULT_POLISH.steps,
    guidance: preset?.polish?.guidance ?? preset?.generation?.guidance ?? DEFAULT_POLISH.guidance,
    loraScale: preset?.generation?.loraScale ?? DEFAULT_POLISH.loraScale,
  };
}

export interface PromptWords {
  trigger: string;
  classWord: string;
  skin?: { finish?: string | undefined; texture?: string | undefined; retouching?: string | undefined } | undefined;
  lighting?: { setup?: string | undefined; quality?: string | undefined } | undefined;
}

const TEXTURE: Record<string, string> = {
  "natural-pores": "natural skin texture with visible pores",
  fine: "fine natural skin texture",
  smooth: "smooth skin",
};

/** A prompt about the face only: the region shows little else, and the LoRA's trigger leads. */
export function facePrompt(words: PromptWords): string {
  const parts = [`close-up photo of the face of ${words.trigger} ${words.classWord}`, "sharp detailed eyes, both eyes symmetric and in focus"];
  parts.push(TEXTURE[words.skin?.texture ?? "natural-pores"] ?? TEXTURE["natural-pores"]!);
  if (words.skin?.finish) parts.push(`${words.skin.finish} skin finish`);
  parts.push("natural hairline, detailed ears");
  if (words.lighting?.setup) parts.push(`${words.lighting.setup.replace(/-/g, " ")} lighting`);
  if (words.lighting?.quality) parts.push(`${words.lighting.quality} light`);
  return parts.join(", ");
}

/** A face's seed: stable for the same image content, face and base seed (so a re-run asks the same). */
export function faceSeed(base: number, sourceSha256: string, faceIndex: number): number {
  const h = createHash("sha256").update(`${base}:${sourceSha256}:${faceIndex}`).digest();
  return h.readUInt32BE(0) % 2_147_483_647;
}

export interface PolishEstimate {
  images: number;
  faces: number;
  upscales: number;
  costUsd: number;
  seconds: number;
}

export function estimatePolish(input: { images: number; faces: number; perFaceUsd: number; secondsPerFace: number; upscale: number; perUpscaleUsd: number }): PolishEstimate {
  const upscales = input.upscale > 0 ? input.images : 0;
  return {
    images: input.images,
    faces: input.faces,
    upscales,
    costUsd: Math.round((input.faces * input.perFaceUsd + upscales * input.perUpscaleUsd) * 1000) / 1000,
    seconds: Math.round(input.faces * input.secondsPerFace + upscales * 2),
  };
}

/** The decision rule (pure): keep the polished image unless likeness dropped by more than the margin. */
export function keepPolished(before: { relative?: number | undefined; faces: number }, after: { relative?: number | undefined; faces: number }, margin: number): { keep: boolean; reason: string } {
  if (after.faces !== 1 || after.relative === undefined) {
    return { keep: false, reason: `the polished image has ${after.faces} readable face${after.faces === 1 ? "" : "s"} (the original had ${before.faces})` };
  }
  if (before.relative === undefined) return { keep: true, reason: "the original had no scorable face; the polished one does" };
  const drop = before.relative - after.relative;
  if (drop > margin) {
    return { keep: false, reason: `likeness dropped from ${pct(before.relative)} to ${pct(after.relative)} (more than the ${pct(margin)} margin)` };
  }
  return { keep: true, reason: `likeness ${pct(before.relative)} -> ${pct(after.relative)} (within the ${pct(margin)} margin)` };
}
