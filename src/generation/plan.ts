/**
 * The generation plan: pure data built before anything runs (house style: plans are data).
 * `gen --dry-run` prints it; the batch engine executes it. Same inputs, same plan: seeds come
 * from the base seed, shots cycle through the variation matrix in a fixed order, and file names
 * are `<preset>-<variation>-<index>-<seed>.<ext>`.
 */
import { join } from "node:path";
import { composePrompt, type ComposedPrompt, type IdentityWords } from "../presets/compose.js";
import type { ResolvedPreset } from "../presets/load.js";
import { applyAssignments } from "../presets/paths.js";
import type { PresetFile } from "../presets/schema.js";
import { applyVariation, expandVariations, type Variation } from "../presets/variations.js";
import { modelInputs, type GenModel, type InputContext } from "./model-inputs.js";
import { estimateBatch, PRICE_TABLE, type BatchEstimate, type PriceKey } from "../pricing/prices.js";

/** Seeds stay below 2^31 - 1: every backend accepts a signed 32-bit integer. */
export const MAX_SEED = 2_147_483_646;

export interface PlannedImage {
  /** 1-based position in the batch. */
  index: number;
  /** Stable key of this shot across runs (variation + index), used by the manifest. */
  key: string;
  variation: Pick<Variation, "label" | "axes">;
  seed: number;
  prompt: string;
  promptJson: Record<string, unknown>;
  sampler: ComposedPrompt["sampler"];
  model: GenModel;
  inputs: Record<string, unknown>;
  fileName: string;
  path: string;
}

export interface GenPlan {
  preset: { name: string; hash: string; description?: string | undefined; chain: string[] };
  identity: (IdentityWords & { name: string }) | null;
  model: GenModel;
  count: number;
  seedBase: number;
  seedSource: "flag" | "random" | "manifest";
  outDir: string;
  images: PlannedImage[];
  estimates: BatchEstimate[];
  priceTable: { source: string; asOf: string };
}

export interface PlanInput {
  preset: ResolvedPreset;
  assignments: ReadonlyArray<{ path: string; value: unknown }>;
  identity?: (IdentityWords & { name: string }) | undefined;
  count?: number | undefined;
  seedBase: number;
  seedSource: GenPlan["seedSource"];
  outDir: string;
  model: GenModel;
  concurrency: number;
  inputContext?: Omit<InputContext, "seed">;
}

export function seedFor(base: number, index: number): number {
  return (base + index - 1) % (MAX_SEED + 1);
}

export function padIndex(index: number, total: number): string {
  return String(index).padStart(Math.max(3, String(total).length), "0");
}

export function buildPlan(input: PlanInput): GenPlan {
  const base: PresetFile = applyAssignments(input.preset.data, input.assignments);
  const generation = { ...input.preset.generation, ...(base.generation ?? {}) };
  const count = input.count ?? generation.count;
  const variations = expandVariations(base);
  const shots = variations.map((variation) => ({ variation, composed: composePrompt({ ...applyVariation(base, variation), generation }, input.identity) }));
  const images: PlannedImage[] = [];
  for (let index = 1; index <= count; index++) {
    const shot = shots[(index - 1) % shots.length];
    if (!shot) break;
    const seed = seedFor(input.seedBase, index);
    const ext = shot.composed.sampler.outputFormat;
    const fileName = `${input.preset.name}-${shot.variation.label}-${padIndex(index, count)}-${seed}.${ext}`;
    images.push({
      index,
      key: `${shot.variation.label}-${padIndex(index, count)}`,
      variation: { label: shot.variation.label, axes: shot.variation.axes },
      seed,
      prompt: shot.composed.prompt,
      promptJson: shot.composed.promptJson,
      sampler: shot.composed.sampler,
      model: input.model,
      inputs: modelInputs(input.model, shot.composed, { ...(input.inputContext ?? {}), seed }),
      fileName,
      path: join(input.outDir, fileName),
    });
  }
  const steps = generation.steps;
  const estimateKeys: PriceKey[] = ["replicate:trained-version", "replicate:flux-dev-lora", "replicate:flux-2-dev", "replicate:flux-2-pro", "replicate:flux-2-klein-4b", "local", "test"];
  return {
    preset: { name: input.preset.name, hash: input.preset.hash, description: input.preset.description, chain: input.preset.chain },
    identity: input.identity ?? null,
    model: input.model,
    count,
    seedBase: input.seedBase,
    seedSource: input.seedSource,
    outDir: input.outDir,
    images,
    estimates: estimateKeys.map((key) => estimateBatch(key, images.length, steps, input.concurrency)),
    priceTable: { source: PRICE_TABLE.source, asOf: PRICE_TABLE.asOf },
  };
}
