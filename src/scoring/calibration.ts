/**
 * Identity thresholds for the faceres descriptor (@vladmandic/human 3.3.6, WASM), expressed on the
 * *relative* similarity of similarity.ts: an output's mean cosine to the selfies divided by the
 * selfies' own mean pairwise cosine. 1.0 means "as much like you as your selfies are like each
 * other". Raw faceres cosines do not follow ArcFace's 0.5 rule (vladmandic/human, the faceres model: 0.72 for
 * one person across photos, 0.36-0.49 for different people), which is why the raw number is never
 * judged on its own.
 *
 * Measured by test/unit/scoring/calibration.test.ts (which re-measures and fails if these stop
 * separating the people). Reference: 6 "selfies" built from astronaut.png (Eileen Collins: crops,
 * a flip, re-lit, rotated 7 degrees, scaled); their pairwise cosine: mean 0.947, p10 0.925.
 * "Generated" 1 MP outputs: the same 8 transformations applied to both portraits (square crop,
 * re-lit +20% / -25%, teal background, small on a beige canvas, rotated 6 degrees, blur 1.6,
 * warm colour cast). Measured 2026-11-27:
 *
 * | outputs                                       | faceres cosine | relative    |
 * | --------------------------------------------- | -------------- | ----------- |
 * | Collins (the identity), 8 transformations     | 0.932-0.966    | 0.984-1.020 |
 * | Hopper (another person), same 8 transforms    | 0.371-0.390    | 0.392-0.412 |
 *
 * The gap is wide on fixtures made from one photo; real selfies spread more (pairwise mean ~0.72
 * per the reference's measurement), and another person then reads 0.36-0.49 / 0.72 = 0.50-0.68.
 * So `notYou` sits above that range and `match` well above it, leaving a "doubtful" band where a
 * person should look:
 */
export const IDENTITY_THRESHOLDS = {
  /** relative >= match: looks like you. */
  match: 0.8,
  /** doubtful <= relative < match: might be you; look before you use it. Below: not you. */
  doubtful: 0.7,
} as const;

/**
 * Quality limits on the face of a generated image, reusing the selfie rules' scale (measured on
 * the same fixtures, see src/selfies/rules.ts): blur is the contrast-normalised Laplacian variance
 * of the face at 256 px, exposure the face's mean luma, angles in degrees.
 */
export const QUALITY_LIMITS = {
  sharpnessGood: 30,
  sharpnessPoor: 15,
  lumaLow: 70,
  lumaHigh: 200,
  yawMax: 30,
  pitchMax: 25,
} as const;

/**
 * The quality floor for kept images (issue 15): a professional headshot is sharp and shows the
 * face large enough. An image below it is set aside however much it looks like you.
 * - the face must not read as `blurry` (sharpness under QUALITY_LIMITS.sharpnessPoor, the same
 *   scale as the selfie rules: Gaussian blur sigma 2 on a 256 px face measures 10.8);
 * - the detected face box must be at least 10% of the image's shorter side and 80 px wide. A
 *   head-and-shoulders frame measures about 30% (rehearsal previews, 912 px wide: 0.28-0.32),
 *   a three-quarter-length frame about 13-15%; a face under 10% is a figure in a room, not a
 *   headshot, and has too few pixels for a crop.
 */
export const KEPT_QUALITY = {
  minFaceShare: 0.1,
  minFacePixels: 80,
} as const;
