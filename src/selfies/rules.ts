/**
 * Per-image verdicts: pure functions from measurements (analyze.ts) to reasons a person can act on.
 *
 * Thresholds, calibrated with Human 3.3.6 (WASM) on test/fixtures/faces and variants built from
 * them (numbers measured by running; see also the README section "headshot check"):
 *
 * | measure | fixtures measured | warn | reject |
 * | --- | --- | --- | --- |
 * | short side (px) | - | < 1024 | < 512 |
 * | faces found | 1 on each portrait, 2 on the side-by-side | - | 0, or > 1 |
 * | face width (source px) | 290 px at 2x; 80-190 px on a 2400 px canvas | < 200 | < 100 |
 * | face box / frame area | close-up 8-16%; 1200 px face on 2400 canvas 0.1-0.6% | < 2% | < 0.5% |
 * | sharpness (normalised Laplacian variance, face at 256 px) | sharp 37-78 (2x upscale of a 512 px scan), 500+ native; Gaussian blur sigma 2: 10.8, sigma 6: 3.9 | < 25 | < 15 |
 * | face mean luma (0-255) | normal 130; 35% exposure: 46 | < 70 or > 200 | < 40 or > 225 |
 * | clipped face pixels | - | > 25% | > 50% |
 * | yaw / pitch (deg) | frontal portraits: yaw < 2, pitch 4-9 | > 30 / > 25 | > 55 / > 45 |
 *
 * Blur is measured on the face only, resampled to a fixed 256x256 and contrast-normalised
 * (quality.ts normalisedSharpness), because the raw Laplacian variance depends on scale and on
 * exposure. Face size: a 1024 training crop of head and shoulders
 * spans about 2.6 face widths, so a face under ~200 px wide is upscaled more than 2x (warn);
 * under 100 px there is too little face to learn from (reject). The area rule catches faces
 * that are large in pixels but tiny in a huge frame (the crop would throw away almost all of it).
 */
import type { ImageAnalysis } from "./analyze.js";
import type { Reason } from "./types.js";

export const THRESHOLDS = {
  shortSideWarn: 1024,
  shortSideReject: 512,
  faceWidthWarn: 200,
  faceWidthReject: 100,
  faceAreaWarn: 0.02,
  faceAreaReject: 0.005,
  sharpnessWarn: 25,
  sharpnessReject: 15,
  lumaDarkWarn: 70,
  lumaDarkReject: 40,
  lumaBrightWarn: 200,
  lumaBrightReject: 225,
  clippedWarn: 0.25,
  clippedReject: 0.5,
  yawWarn: 30,
  yawReject: 55,
  pitchWarn: 25,
  pitchReject: 45,
  /** A face covering at least this share of the frame counts as a close-up (else a wider shot). */
  closeupArea: 0.06,
} as const;

function reason(code: string, severity: Reason["severity"], message: string, fix: string): Reason {
  return { code, severity, message, fix };
}

/** Reasons from one image's own measurements (set-level reasons come from set-rules.ts). */
export function imageReasons(a: ImageAnalysis): Reason[] {
  const t = THRESHOLDS;
  const reasons: Reason[] = [];
  const shortSide = Math.min(a.width, a.height);
  if (shortSide < t.shortSideReject) {
    reasons.push(reason("too_small", "reject", `Only ${a.width}x${a.height} pixels; at least ${t.shortSideReject} px on the short side is needed, ${t.shortSideWarn}+ is better.`, "Use the original photo from the phone, not a thumbnail or a messenger copy."));
  } else if (shortSide < t.shortSideWarn) {
    reasons.push(reason("low_resolution", "warn", `${a.width}x${a.height} pixels: under ${t.shortSideWarn} px on the short side, so it trains at a lower resolution.`, "Use the full-size original if you have it."));
  }
  if (a.faces.length === 0) {
    reasons.push(reason("no_face", "reject", "No face was found.", "Use a photo where your face is clearly visible, facing the camera, not covered."));
    return reasons;
  }
  if (a.faces.length > 1) {
    reasons.push(reason("multiple_faces", "reject", `${a.faces.length} faces were found; the model would learn a mix of people.`, "Crop the photo to just yourself, or leave it out."));
  }
  const face = a.faces[0]!;
  const [, , fw, fh] = face.box;
  const area = (fw * fh) / Math.max(1, a.width * a.height);
  if (fw < t.faceWidthReject || area < t.faceAreaReject) {
    reasons.push(reason("face_too_small", "reject", `The face is only ${fw} px wide (${pct(area)} of the photo); too little detail to learn from.`, "Use a closer shot, or crop the original around your head and shoulders."));
  } else if (fw < t.faceWidthWarn || area < t.faceAreaWarn) {
    reasons.push(reason("face_small", "warn", `The face is ${fw} px wide (${pct(area)} of the photo); the training crop will be soft.`, "Fine as one of a few wider shots; prefer closer photos for most of the set."));
  }
  if (a.sharpness !== undefined) {
    if (a.sharpness < t.sharpnessReject) {
      reasons.push(reason("blurry", "reject", `The face is blurry (sharpness ${a.sharpness.toFixed(0)}, needs ${t.sharpnessWarn}+).`, "Retake it in good light holding the phone still, or use the rear camera; remove this one."));
    } else if (a.sharpness < t.sharpnessWarn) {
      reasons.push(reason("soft", "warn", `The face is a little soft (sharpness ${a.sharpness.toFixed(0)}, ${t.sharpnessWarn}+ is sharp).`, "Keep it only if you have few sharper photos."));
    }
  }
  const luma = a.faceLuma;
  if (luma) {
    // Name the measure that fired (issue 15): the mean brightness, or the share clipped to
    // black/white, whichever crossed its line.
    const dark = (meanLine: number, clipLine: number) =>
      luma.mean < meanLine ? `brightness ${luma.mean.toFixed(0)}/255, under ${meanLine}` : `${pct(luma.dark)} of it crushed to black, over ${pct(clipLine)}`;
    const bright = (meanLine: number, clipLine: number) =>
      luma.mean > meanLine ? `brightness ${luma.mean.toFixed(0)}/255, over ${meanLine}` : `${pct(luma.bright)} of it blown to white, over ${pct(clipLine)}`;
    if (luma.mean < t.lumaDarkReject || luma.dark > t.clippedReject) {
      reasons.push(reason("too_dark", "reject", `The face is far too dark (${dark(t.lumaDarkReject, t.clippedReject)}).`, "Retake it facing a window or in daylight."));
    } else if (luma.mean < t.lumaDarkWarn || luma.dark > t.clippedWarn) {
      reasons.push(reason("underexposed", "warn", `The face is underexposed (${dark(t.lumaDarkWarn, t.clippedWarn)}).`, "Use photos taken facing the light; avoid backlight."));
    } else if (luma.mean > t.lumaBrightReject || luma.bright > t.clippedReject) {
      reasons.push(reason("too_bright", "reject", `The face is blown out (${bright(t.lumaBrightReject, t.clippedReject)}).`, "Retake it out of direct sun or without the flash."));
    } else if (luma.mean > t.lumaBrightWarn || luma.bright > t.clippedWarn) {
      reasons.push(reason("overexposed", "warn", `The face is overexposed (${bright(t.lumaBrightWarn, t.clippedWarn)}).`, "Prefer photos in soft, even light."));
    }
  }
  const yaw = Math.abs(face.yaw);
  const pitch = Math.abs(face.pitch);
  if (yaw > t.yawReject || pitch > t.pitchReject) {
    reasons.push(reason("extreme_angle", "reject", `The head is turned too far (yaw ${face.yaw.toFixed(0)}°, pitch ${face.pitch.toFixed(0)}°).`, "Use photos where both eyes are visible."));
  } else if (yaw > t.yawWarn || pitch > t.pitchWarn) {
    reasons.push(reason("strong_angle", "warn", `The head is strongly turned (yaw ${face.yaw.toFixed(0)}°, pitch ${face.pitch.toFixed(0)}°).`, "A few profile-ish shots are fine; keep most photos near frontal."));
  }
  return reasons;
}

export function faceArea(a: { width: number; height: number; faces: Array<{ box: [number, number, number, number] }> }): number {
  const face = a.faces[0];
  return face ? (face.box[2] * face.box[3]) / Math.max(1, a.width * a.height) : 0;
}

export function pct(fraction: number): string {
  return fraction < 0.01 ? `${(fraction * 100).toFixed(1)}%` : `${Math.round(fraction * 100)}%`;
}

export function verdictOf(reasons: Reason[]): "ok" | "warn" | "reject" {
  if (reasons.some((r) => r.severity === "reject")) return "reject";
  return reasons.length ? "warn" : "ok";
}
