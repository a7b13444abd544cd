/**
 * The preset schema: a photograph described the way a photographer would (camera, lighting,
 * skin, attire, background, expression, pose) plus sampler settings. Every field is optional in a
 * file because presets inherit through `extends`; defaults fill what the whole chain leaves out.
 * The JSON Schema in presets/schema.json is generated from this (see src/schemas/json-schema.ts).
 */
import { z } from "zod";

export const SHOTS = ["close-up", "head-and-shoulders", "chest-up", "waist-up", "three-quarter"] as const;
export const DEPTHS_OF_FIELD = ["shallow", "moderate", "deep"] as const;
export const ANGLES = ["eye-level", "slightly-above", "slightly-below", "three-quarter-left", "three-quarter-right"] as const;
export const LIGHTING_SETUPS = [
  "rembrandt",
  "loop",
  "butterfly",
  "split",
  "broad",
  "short",
  "clamshell",
  "soft-window",
  "studio-softbox",
  "natural-daylight",
  "open-shade",
  "golden-hour",
  "overcast",
  "high-key",
  "low-key",
] as const;
export const KEY_DIRECTIONS = ["left", "right", "front", "above", "above-left", "above-right"] as const;
export const LIGHT_QUALITIES = ["soft", "diffused", "hard", "contrasty"] as const;
export const SKIN_FINISHES = ["matte", "natural", "satin", "dewy"] as const;
export const SKIN_TEXTURES = ["natural-pores", "fine", "smooth"] as const;
export const RETOUCHING = ["none", "light", "moderate", "editorial"] as const;
export const ASPECT_RATIOS = ["1:1", "4:5", "5:4", "3:4", "4:3", "2:3", "3:2", "9:16", "16:9"] as const;
export const OUTPUT_FORMATS = ["png", "jpg", "webp"] as const;

/**
 * Limits that keep a preset a description, not a payload (issue 14, R7): a name is a folder and
 * file name, so it stays well under the 255-byte file name limit of common file systems; a
 * free-text field is a phrase of a prompt (FLUX reads at most 512 T5 tokens of the whole prompt).
 */
export const MAX_NAME_LENGTH = 64;
export const MAX_TEXT_LENGTH = 500;
export const MAX_LIST_ITEMS = 50;

const text = z.string().trim().min(1, "must not be empty").max(MAX_TEXT_LENGTH, `keep it under ${MAX_TEXT_LENGTH} characters`);
const textList = z.array(text).max(MAX_LIST_ITEMS, `at most ${MAX_LIST_ITEMS} entries`);

export const subjectSchema = z
  .object({
    class: text.optional().describe("Class word after the trigger: man, woman or person (set per identity)."),
    age: text.optional().describe("Age hint, e.g. 'in their 40s'."),
    appearance: textList.optional().describe("Appearance hints, e.g. 'short grey hair', 'glasses'."),
  })
  .strict();

export const cameraSchema = z
  .object({
    shot: z.enum(SHOTS).optional().describe("Framing of the shot."),
    lens: text.optional().describe("Focal length, e.g. '85mm'."),
    aperture: z
      .string()
      .regex(/^f\/\d+(\.\d+)?$/, "write the aperture as f/<number>, e.g. f/2.8")
      .optional()
      .describe("Aperture, e.g. 'f/2.8'."),
    depthOfField: z.enum(DEPTHS_OF_FIELD).optional(),
    angle: z.enum(ANGLES).optional(),
    body: text.optional().describe("Camera body or film, e.g. 'full-frame mirrorless'."),
  })
  .strict();

export const lightingSchema = z
  .object({
    setup: z.enum(LIGHTING_SETUPS).optional().describe("Lighting pattern or source."),
    keyDirection: z.enum(KEY_DIRECTIONS).optional().describe("Where the key light comes from, from the camera's view."),
    quality: z.enum(LIGHT_QUALITIES).optional(),
    colorTemperature: z
      .union([z.number().int().min(2000).max(10000), z.enum(["warm", "neutral", "cool"])])
      .optional()
      .describe("Kelvin (e.g. 5600) or warm/neutral/cool."),
    mood: text.optional().describe("Mood of the light, e.g. 'calm and confident'."),
  })
  .strict();

export const skinSchema = z
  .object({
    finish: z.enum(SKIN_FINISHES).optional(),
    texture: z.enum(SKIN_TEXTURES).optional(),
    retouching: z.enum(RETOUCHING).optional(),
  })
  .strict();

export const generationSchema = z
  .object({
    steps: z.number().int().min(1).max(50).optional().describe("Sampler steps (FLUX dev portraits: 40-50)."),
    guidance: z.number().min(0).max(10).optional().describe("Guidance (FLUX dev portraits: about 2.5)."),
    aspectRatio: z.enum(ASPECT_RATIOS).optional(),
    count: z.number().int().min(1).max(1000).optional().describe("Images per run when --count is not given."),
    outputFormat: z.enum(OUTPUT_FORMATS).optional(),
    outputQuality: z.number().int().min(1).max(100).optional(),
    loraScale: z.number().min(-1).max(3).optional().describe("Strength of the identity LoRA."),
  })
  .strict();

/** The face detail pass after generation (`headshot polish`, issue 17); off unless enabled. */
export const polishSchema = z
  .object({
    enabled: z.boolean().optional().describe("Polish every kept image after gen (same as gen --polish; --no-polish turns it off)."),
    strength: z.number().min(0.05).max(0.9).optional().describe("How much of the face region may be redrawn (default 0.35)."),
    upscale: z.number().min(0).max(4).optional().describe("Enlarge the final file by this factor (0 = off)."),
    margin: z.number().min(0).max(1).optional().describe("Largest likeness drop that still keeps the polished version (default 0.03)."),
    steps: z.number().int().min(1).max(50).optional().describe("Sampler steps of the face pass (default: generation.steps); only steps x strength of them run."),
    guidance: z.number().min(0).max(10).optional().describe("Guidance of the face pass (default: generation.guidance)."),
  })
  .strict();

/** One value of a variation axis: a scalar for leaf fields, an object for a whole section. */
const variationValue = z.union([z.string().max(MAX_TEXT_LENGTH, `keep it under ${MAX_TEXT_LENGTH} characters`), z.number(), z.record(z.string(), z.unknown())]);

export const presetSchema = z
  .object({
    $schema: z.string().optional(),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]*$/, "use lowercase letters, digits and dashes")
      .max(MAX_NAME_LENGTH, `at most ${MAX_NAME_LENGTH} characters (it names the output folder)`)
      .optional()
      .describe("Preset name (defaults to the file name)."),
    description: text.optional(),
    extends: text.optional().describe("Name or relative path of the preset this one builds on."),
    subject: subjectSchema.optional(),
    camera: cameraSchema.optional(),
    lighting: lightingSchema.optional(),
    skin: skinSchema.optional(),
    attire: text.optional().describe("What the subject wears."),
    background: text.optional(),
    expression: text.optional(),
    pose: text.optional(),
    avoid: textList.optional().describe("Things to keep out of the picture (added to inherited ones)."),
    generation: generationSchema.optional(),
    polish: polishSchema.optional(),
    variations: z
      .record(z.string().max(MAX_NAME_LENGTH), z.array(variationValue).min(1, "an axis needs at least one value").max(MAX_LIST_ITEMS, `at most ${MAX_LIST_ITEMS} values per axis`))
      .optional()
      .describe("Named axes (field paths such as attire or lighting.setup) whose values are combined into a matrix of shots."),
  })
  .strict();

export type PresetFile = z.infer<typeof presetSchema>;
export type GenerationSettings = z.infer<typeof generationSchema>;
export type PolishPresetSettings = z.infer<typeof polishSchema>;

/** Practice for FLUX dev portraits (replicate/cog-flux predict.py DevLoraPredictor). */
export const DEFAULT_GENERATION: Required<GenerationSettings> = {
  steps: 45,
  guidance: 2.5,
  aspectRatio: "4:5",
  count: 8,
  outputFormat: "png",
  outputQuality: 95,
  loraScale: 1,
};
