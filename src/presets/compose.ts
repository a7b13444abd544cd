/**
 * The pure prompt composer: (preset, identity, overrides, variation) -> a natural-language prompt,
 * a structured JSON prompt for FLUX.2 (which accepts JSON prompts) and the sampler settings.
 * Order is fixed: trigger and class first, then camera, lighting, skin, attire, background,
 * expression, pose, and what to avoid. Phrases already said are not repeated.
 */
import { DEFAULT_GENERATION, type GenerationSettings, type PresetFile } from "./schema.js";
import {
  ANGLE_PHRASES,
  colorTemperaturePhrase,
  DIRECTION_PHRASES,
  DOF_PHRASES,
  FINISH_PHRASES,
  LIGHTING_PHRASES,
  QUALITY_WORDS,
  RETOUCH_PHRASES,
  SHOT_PHRASES,
  TEXTURE_PHRASES,
} from "./vocabulary.js";

/** Shown when no identity is given (dry-run); replaced by the identity's trigger at run time. */
export const TRIGGER_PLACEHOLDER = "[trigger]";

export interface IdentityWords {
  trigger: string;
  classWord: string;
}

export interface SamplerSettings {
  steps: number;
  guidance: number;
  aspectRatio: NonNullable<GenerationSettings["aspectRatio"]>;
  width: number;
  height: number;
  outputFormat: NonNullable<GenerationSettings["outputFormat"]>;
  outputQuality: number;
  loraScale: number;
}

export interface ComposedPrompt {
  prompt: string;
  promptJson: Record<string, unknown>;
  sampler: SamplerSettings;
}

/** Width and height for an aspect ratio at about one megapixel, multiples of 16 (FLUX needs 16). */
export function sizeForAspect(aspect: string, megapixels = 1): { width: number; height: number } {
  const [w, h] = aspect.split(":").map(Number) as [number, number];
  const area = megapixels * 1024 * 1024;
  const width = Math.round(Math.sqrt((area * w) / h) / 16) * 16;
  const height = Math.round(Math.sqrt((area * h) / w) / 16) * 16;
  return { width, height };
}

/** Joins phrases, dropping empty ones and any phrase already contained in an earlier one. */
export function joinUnique(phrases: ReadonlyArray<string | undefined>): string {
  const kept: string[] = [];
  for (const raw of phrases) {
    const phrase = raw?.trim().replace(/\s+/g, " ");
    if (!phrase) continue;
    const lower = phrase.toLowerCase();
    if (kept.some((k) => k.toLowerCase() === lower || k.toLowerCase().includes(lower))) continue;
    kept.push(phrase);
  }
  return kept.join(", ");
}

function subjectPhrase(preset: PresetFile, identity: IdentityWords | undefined): string {
  const classWord = identity?.classWord ?? preset.subject?.class ?? "person";
  const trigger = identity?.trigger ?? TRIGGER_PLACEHOLDER;
  return joinUnique([`${trigger} ${classWord}`, preset.subject?.age, ...(preset.subject?.appearance ?? [])]);
}

function cameraPhrases(camera: PresetFile["camera"]): string[] {
  if (!camera) return [];
  const article = camera.lens && /^(8|11|18)/.test(camera.lens) ? "an" : "a";
  const lens = camera.lens && camera.aperture ? `shot on ${article} ${camera.lens} lens at ${camera.aperture}` : camera.lens ? `shot on ${article} ${camera.lens} lens` : camera.aperture ? `shot at ${camera.aperture}` : undefined;
  return [
    camera.shot ? SHOT_PHRASES[camera.shot] : undefined,
    lens,
    camera.body ? `on a ${camera.body}` : undefined,
    camera.depthOfField ? DOF_PHRASES[camera.depthOfField] : undefined,
    camera.angle ? ANGLE_PHRASES[camera.angle] : undefined,
  ].filter((p): p is string => Boolean(p));
}

function lightingPhrases(lighting: PresetFile["lighting"]): string[] {
  if (!lighting) return [];
  const setup = lighting.setup ? LIGHTING_PHRASES[lighting.setup] : "lighting";
  const quality = lighting.quality ? QUALITY_WORDS[lighting.quality] : undefined;
  // "soft" + "soft window light" would say soft twice: only prefix a word the setup lacks.
  const qualified = quality && !setup.toLowerCase().includes(quality) ? `${quality} ${setup}` : setup;
  const main = lighting.setup || quality || lighting.keyDirection
    ? `${qualified}${lighting.keyDirection ? ` ${DIRECTION_PHRASES[lighting.keyDirection]}` : ""}`
    : undefined;
  return [
    main,
    lighting.colorTemperature !== undefined ? colorTemperaturePhrase(lighting.colorTemperature) : undefined,
    lighting.mood ? (/\bmood\b/i.test(lighting.mood) ? lighting.mood : `${lighting.mood} mood`) : undefined,
  ].filter((p): p is string => Boolean(p));
}

function skinPhrases(skin: PresetFile["skin"]): string[] {
  if (!skin) return [];
  return [
    skin.finish ? FINISH_PHRASES[skin.finish] : undefined,
    skin.texture ? TEXTURE_PHRASES[skin.texture] : undefined,
    skin.retouching ? RETOUCH_PHRASES[skin.retouching] : undefined,
  ].filter((p): p is string => Boolean(p));
}

function attirePhrase(attire: string | undefined): string | undefined {
  if (!attire) return undefined;
  return /^(wearing|dressed|in )/i.test(attire) ? attire : `wearing ${attire}`;
}

function backgroundPhrase(background: string | undefined): string | undefined {
  if (!background) return undefined;
  return /\b(background|backdrop|seamless|setting|office|outdoors?)\b/i.test(background) ? background : `${background} background`;
}

export function composeSampler(generation: GenerationSettings | undefined): SamplerSettings {
  const g = { ...DEFAULT_GENERATION, ...(generation ?? {}) };
  return {
    steps: g.steps,
    guidance: g.guidance,
    aspectRatio: g.aspectRatio,
    ...sizeForAspect(g.aspectRatio),
    outputFormat: g.outputFormat,
    outputQuality: g.outputQuality,
    loraScale: g.loraScale,
  };
}

/** Composes one shot. `preset` must already have overrides and the variation applied. */
export function composePrompt(preset: PresetFile, identity?: IdentityWords): ComposedPrompt {
  const subject = subjectPhrase(preset, identity);
  const prompt = joinUnique([
    subject,
    "professional headshot photograph",
    ...cameraPhrases(preset.camera),
    ...lightingPhrases(preset.lighting),
    ...skinPhrases(preset.skin),
    attirePhrase(preset.attire),
    backgroundPhrase(preset.background),
    preset.expression,
    preset.pose,
    ...(preset.avoid ?? []).map((a) => `no ${a.replace(/^no\s+/i, "")}`),
  ]);
  const lensMm = preset.camera?.lens?.match(/(\d+)\s*mm/i)?.[1];
  // FLUX.2's structured prompt shape (scene, subjects, style, lighting, mood, background,
  // composition, camera), as BFL documents it for JSON prompting.
  const promptJson: Record<string, unknown> = {
    scene: "professional headshot photograph",
    subjects: [
      {
        description: joinUnique([subject, attirePhrase(preset.attire)]),
        ...(preset.expression || preset.pose ? { action: joinUnique([preset.expression, preset.pose]) } : {}),
        position: "centered",
      },
    ],
    style: joinUnique(["photorealistic professional portrait", ...skinPhrases(preset.skin)]),
    ...(preset.lighting ? { lighting: joinUnique(lightingPhrases(preset.lighting).filter((p) => !p.endsWith(" mood"))) } : {}),
    ...(preset.lighting?.mood ? { mood: preset.lighting.mood } : {}),
    ...(preset.background ? { background: preset.background } : {}),
    ...(preset.camera?.shot ? { composition: SHOT_PHRASES[preset.camera.shot] } : {}),
    ...(preset.camera
      ? {
          camera: {
            ...(preset.camera.angle ? { angle: ANGLE_PHRASES[preset.camera.angle] } : {}),
            ...(preset.camera.shot ? { distance: preset.camera.shot } : {}),
            ...(preset.camera.depthOfField ? { focus: DOF_PHRASES[preset.camera.depthOfField] } : {}),
            ...(lensMm ? { "lens-mm": Number(lensMm) } : {}),
            ...(preset.camera.aperture ? { "f-number": preset.camera.aperture } : {}),
          },
        }
      : {}),
    ...(preset.avoid?.length ? { avoid: preset.avoid } : {}),
  };
  return { prompt, promptJson, sampler: composeSampler(preset.generation) };
}
