/**
 * Likeness thresholds for the dlib ResNet face descriptor as ported by @vladmandic/face-api 1.7.15
 * (128 values, run on tfjs WASM next to Human, see src/selfies/face-worker-source.ts), chosen
 * on real photos (issue 18). Two numbers judge an output against the selfies:
 * - `similarity`, the mean cosine of the output to the selfies (raw, comparable across people);
 * - `relative`, that mean divided by the selfies' own mean pairwise cosine (1.0 = as much like
 *   you as your photos are like each other).
 * A verdict needs both: the floor on raw similarity stops a stranger who happens to sit close to
 * a loose reference set; the relative score stops a look-alike against a tight one.
 *
 * Measured with test/bench/likeness.mjs (results in test/bench/LIKENESS.md), 2026-12-07, on two
 * real-photo sets:
 * - A, committed: test/fixtures/likeness (146 public-domain photos of 85 members of the U.S.
 *   Congress, 56 with two or more sittings; sources and licences in its PROVENANCE.md);
 * - B, not committed (its sources state no licence): 87 photos of 29 people, varied light, pose and
 *   age, including TV stills (test/bench/likeness-set.tsv).
 * Photo against photo on B (130 genuine pairs, 3611 strangers):
 *
 * | descriptor                                       | equal error rate | genuine min / median | strangers p99 / max |
 * | ------------------------------------------------ | ---------------- | -------------------- | ------------------- |
 * | Human faceres (before)                           | 3.1%             | 0.415 / 0.691        | 0.557 / 0.629       |
 * | dlib ResNet, landmarks from face-api's SSD       | 0.92%            | 0.906 / 0.960        | 0.907 / 0.939       |
 * | dlib ResNet, landmarks from Human's box x3 (now) | 1.36%            | 0.868 / 0.957        | 0.907 / 0.925       |
 *
 * On A the shipped descriptor's equal error rate is 0.10% (67 genuine pairs, 10518 strangers).
 * Verdicts: each photo of a person with 3+ photos scored against that person's other photos
 * (genuine probes: 13 on A, 60 on B) and every photo against every other person with 2+ photos
 * (strangers: 8059 on A, 2006 on B). The floor was 0.92 until set A existed; there it let 9 of 8059
 * strangers match (0.11%, all same-sex look-alikes against a two-photo reference). Grid over
 * floor x relative (match, strangers matched):
 *
 * | floor / relative | A genuine | A strangers | B genuine | B strangers |
 * | ---------------- | --------- | ----------- | --------- | ----------- |
 * | 0.920 / 0.95     | 13/13     | 9 (0.11%)   | 60/60     | 0           |
 * | 0.925 / 0.95 now | 13/13     | 4 (0.05%)   | 60/60     | 0           |
 * | 0.930 / 0.95     | 13/13     | 2 (0.02%)   | 58/60     | 0           |
 * | 0.930 / 0.97     | 12/13     | 0           | 57/60     | 0           |
 *
 * 0.925 is the highest floor that keeps every genuine probe of both sets (B's lowest genuine probe
 * sits at 0.925, so the margin there is nil). test/unit/identity/likeness-real-set.test.ts holds
 * set A to the issue's targets on every `npm test`.
 */
export const IDENTITY_THRESHOLDS = {
  /** relative >= match (and similarity >= matchFloor): looks like you. */
  match: 0.95,
  /** Raw mean cosine a match needs whatever the relative score. */
  matchFloor: 0.925,
  /**
   * doubtful <= relative < match (and similarity >= doubtfulFloor): look at it yourself. About
   * one stranger in ten of the measured set lands here, so it is never "probably you".
   */
  doubtful: 0.9,
  doubtfulFloor: 0.88,
} as const;

/** The descriptor the thresholds belong to, stored with every identity's selfie summary. */
export const DESCRIPTOR_MODEL = "face-api-dlib-resnet";
export const DESCRIPTOR_DIMS = 128;

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
