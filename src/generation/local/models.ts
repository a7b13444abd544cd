/**
 * What headshot knows about each FLUX model it can run locally, kept as data (house style: backend
 * knowledge lives in its own file). Base ids match the ones training uses, so the LoRA is applied to
 * the model it was trained on (ostris/ai-toolkit ui/src/app/jobs/new/options.tsx: FLUX.2 klein LoRAs are trained on the
 * *base* klein checkpoints).
 *
 * Memory figures are bf16 weight sizes in MiB estimated from parameter counts (2 bytes each); they
 * feed chooseMemoryMode and are estimates, not measurements (hardware reports in ostris/ai-toolkit issues has no
 * inference numbers).
 */
import type { LocalModelId } from "./protocol.js";

export interface LocalModelInfo {
  id: LocalModelId;
  /** diffusers pipeline class used by headshot_generate.py. */
  pipeline: "FluxPipeline" | "Flux2Pipeline" | "Flux2KleinPipeline";
  defaultBase: string;
  /** Needs an accepted licence on Hugging Face and HF_TOKEN (ostris/ai-toolkit#676 and ostris/ai-toolkit#36). */
  gated: boolean;
  /** Flow transformer, bf16. */
  transformerMiB: number;
  /** The large text encoder (T5-XXL plus CLIP for FLUX.1, Mistral or Qwen3 for FLUX.2), bf16. */
  textEncoderMiB: number;
  /** VAE and small parts that are never quantized. */
  otherMiB: number;
  /** Activations, attention buffers and VAE decode at about 1 megapixel. */
  headroomMiB: number;
}

const FLUX1 = { transformerMiB: 22_700, textEncoderMiB: 9_300, otherMiB: 200, headroomMiB: 3_072 } as const;

export const LOCAL_MODELS: Record<LocalModelId, LocalModelInfo> = {
  "flux1-dev": { id: "flux1-dev", pipeline: "FluxPipeline", defaultBase: "black-forest-labs/FLUX.1-dev", gated: true, ...FLUX1 },
  "flux1-schnell": {
    id: "flux1-schnell",
    pipeline: "FluxPipeline",
    defaultBase: "black-forest-labs/FLUX.1-schnell",
    gated: false,
    ...FLUX1,
  },
  // About 32B transformer parameters and a 24B Mistral text encoder (hardware reports in ostris/ai-toolkit issues).
  "flux2-dev": {
    id: "flux2-dev",
    pipeline: "Flux2Pipeline",
    defaultBase: "black-forest-labs/FLUX.2-dev",
    gated: true,
    transformerMiB: 61_000,
    textEncoderMiB: 45_800,
    otherMiB: 400,
    headroomMiB: 4_096,
  },
  "flux2-klein-4b": {
    id: "flux2-klein-4b",
    pipeline: "Flux2KleinPipeline",
    defaultBase: "black-forest-labs/FLUX.2-klein-base-4B",
    gated: false,
    transformerMiB: 7_700,
    textEncoderMiB: 7_700,
    otherMiB: 400,
    headroomMiB: 3_072,
  },
  "flux2-klein-9b": {
    id: "flux2-klein-9b",
    pipeline: "Flux2KleinPipeline",
    defaultBase: "black-forest-labs/FLUX.2-klein-base-9B",
    gated: true,
    transformerMiB: 17_200,
    textEncoderMiB: 15_700,
    otherMiB: 400,
    headroomMiB: 3_072,
  },
};

export function isLocalModelId(value: string): value is LocalModelId {
  return Object.hasOwn(LOCAL_MODELS, value);
}
