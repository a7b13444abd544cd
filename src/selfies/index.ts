/** Selfie inspection and training-set preparation (issue 3): the public surface of src/selfies. */
export { runCheck, PREPARED_DIR_NAME, type CheckOptions } from "./check.js";
export { prepareTrainingSet, captionFor, validateTrigger, validateClassWord, CLASS_WORDS, DEFAULT_TRIGGER, type ClassWord, type PrepareOptions } from "./prepare.js";
export { loadFaceModel, detectFaces, cosine, normalise, type FaceResult, type RgbImage, type DetectOptions } from "./faces.js";
export { THRESHOLDS } from "./rules.js";
export { writeContactSheet, renderContactSheet } from "./contact-sheet.js";
export { SET_THRESHOLDS } from "./set-rules.js";
export type { CheckReport, ImageReport, SetVerdict, Reason, Verdict, FaceSummary, SelfSimilarity, PreparedSet, PreparedImage } from "./types.js";
