/**
 * How each preset value reads in a prompt. Kept as data so wording can be tuned in one place and
 * the composer stays a simple, ordered join.
 */
import type { PresetFile } from "./schema.js";

type Camera = NonNullable<PresetFile["camera"]>;
type Lighting = NonNullable<PresetFile["lighting"]>;
type Skin = NonNullable<PresetFile["skin"]>;

export const SHOT_PHRASES: Record<NonNullable<Camera["shot"]>, string> = {
  "close-up": "close-up headshot",
  "head-and-shoulders": "head-and-shoulders framing",
  "chest-up": "chest-up portrait framing",
  "waist-up": "waist-up portrait framing",
  "three-quarter": "three-quarter length portrait",
};

export const ANGLE_PHRASES: Record<NonNullable<Camera["angle"]>, string> = {
  "eye-level": "camera at eye level",
  "slightly-above": "camera slightly above eye level",
  "slightly-below": "camera slightly below eye level",
  "three-quarter-left": "face turned three-quarters to the left",
  "three-quarter-right": "face turned three-quarters to the right",
};

export const DOF_PHRASES: Record<NonNullable<Camera["depthOfField"]>, string> = {
  shallow: "shallow depth of field with a softly blurred background",
  moderate: "moderate depth of field",
  deep: "deep depth of field, background in focus",
};

export const LIGHTING_PHRASES: Record<NonNullable<Lighting["setup"]>, string> = {
  rembrandt: "Rembrandt lighting with a small triangle of light on the shadowed cheek",
  loop: "loop lighting",
  butterfly: "butterfly lighting",
  split: "split lighting",
  broad: "broad lighting",
  short: "short lighting",
  clamshell: "clamshell beauty lighting",
  "soft-window": "soft window light",
  "studio-softbox": "large softbox studio lighting",
  "natural-daylight": "natural daylight",
  "open-shade": "open shade daylight",
  "golden-hour": "warm golden hour sunlight",
  overcast: "soft overcast daylight",
  "high-key": "bright high-key lighting",
  "low-key": "moody low-key lighting",
};

export const DIRECTION_PHRASES: Record<NonNullable<Lighting["keyDirection"]>, string> = {
  left: "from the left",
  right: "from the right",
  front: "from the front",
  above: "from above",
  "above-left": "from above left",
  "above-right": "from above right",
};

export const QUALITY_WORDS: Record<NonNullable<Lighting["quality"]>, string> = {
  soft: "soft",
  diffused: "diffused",
  hard: "hard-edged",
  contrasty: "high-contrast",
};

export function colorTemperaturePhrase(value: NonNullable<Lighting["colorTemperature"]>): string {
  if (value === "warm") return "warm color temperature";
  if (value === "cool") return "cool color temperature";
  if (value === "neutral") return "neutral white balance";
  const feel = value < 4000 ? "warm" : value > 6500 ? "cool" : "neutral daylight";
  return `${value}K ${feel} white balance`;
}

export const FINISH_PHRASES: Record<NonNullable<Skin["finish"]>, string> = {
  matte: "matte skin finish",
  natural: "natural skin finish",
  satin: "satin skin finish",
  dewy: "dewy skin finish",
};

export const TEXTURE_PHRASES: Record<NonNullable<Skin["texture"]>, string> = {
  "natural-pores": "natural skin texture with visible pores",
  fine: "fine skin texture",
  smooth: "smooth skin",
};

export const RETOUCH_PHRASES: Record<NonNullable<Skin["retouching"]>, string> = {
  none: "unretouched",
  light: "lightly retouched",
  moderate: "moderately retouched",
  editorial: "editorial retouching",
};
