/**
 * Replicate side of the polish tests: a trained destination version whose schema is what the
 * recorded trainer's versions serve (test/fixtures/replicate/models), and fixed model answers: the face pass
 * answers with a warmed copy of Eileen Collins's portrait at the working size (a real face, so the
 * scorer has something to read), Real-ESRGAN with a 2048 px image.
 */
import { createHash } from "node:crypto";
import sharp from "sharp";
import type { ReplicateEmulator } from "../replicate-emulator/index.js";
import { recordedModel, trainedVersionOf } from "../replicate-emulator/recorded-schemas.js";
import { ASTRONAUT } from "../selfies/build.js";
import { polishWorkspace } from "./workspace.js";

export function addFineTunedModel(emu: ReplicateEmulator, name: string): string {
  const now = Date.now();
  const hex = createHash("sha256").update(`polish:${name}`).digest("hex");
  emu.state.models.set(`jane-doe/${name}`, {
    owner: "jane-doe",
    name,
    description: null,
    visibility: "private",
    is_official: false,
    hardware: "gpu-h100",
    versions: [{ id: hex, created_at: now, cog_version: "0.9.0", openapi_schema: trainedVersionOf(recordedModel("ostris/flux-dev-lora-trainer").openapi_schema) }],
    run_count: 0,
    created_at: now,
  });
  return `jane-doe/${name}:${hex}`;
}

/** A polish workspace (./workspace.ts) whose identity "jane" is a fine-tuned version `model` on `emu`. */
export async function replicatePolishWorkspace(prefix: string, emu: ReplicateEmulator, model: string): Promise<{ dir: string; version: string; env: Record<string, string> }> {
  const version = addFineTunedModel(emu, model);
  const ws = await polishWorkspace(prefix, { backend: "replicate", replicate: { version } });
  return { dir: ws.dir, version, env: { ...ws.env, REPLICATE_API_TOKEN: emu.token, REPLICATE_BASE_URL: emu.baseUrl } };
}

export async function modelAnswers(): Promise<{ face: Buffer; upscaled: Buffer }> {
  const face = await sharp(ASTRONAUT)
    .removeAlpha()
    .resize(1024, 1024)
    .recomb([
      [1.05, 0.03, 0],
      [0, 1.02, 0],
      [0, 0.02, 0.95],
    ])
    .png()
    .toBuffer();
  const upscaled = await sharp({ create: { width: 2048, height: 2048, channels: 3, background: "#8090a0" } }).png().toBuffer();
  return { face, upscaled };
}

/**
 * emu.state.outputImage: inpainting inputs (a mask) get the face, Real-ESRGAN inputs (a scale) the
 * big image, gen's text-to-image inputs (a prompt, no image) a portrait when `portrait` is given.
 */
export function answerWith(answers: { face: Buffer; upscaled: Buffer; portrait?: Buffer }) {
  return (input: Record<string, unknown>): Buffer | undefined =>
    input.mask ? answers.face : input.scale !== undefined ? answers.upscaled : input.image === undefined ? answers.portrait : undefined;
}
