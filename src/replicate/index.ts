/**
 * The Replicate integration layer: everything training and generation need, with no HTTP in
 * sight. Start with `createReplicateSession`, then use the classes and functions below.
 * See each module's header for the quirks of Replicate and of the `replicate` client it handles.
 */
export { createReplicateSession, DEFAULT_BASE_URL, normaliseBaseUrl, type ReplicateClientOptions, type ReplicateSession } from "./client.js";
export { RateLimiter, sharedCreateLimiter } from "./rate-limiter.js";
export { systemClock, type Clock } from "./clock.js";
export type { RetryEvent, RetryOptions } from "./retry-fetch.js";
export { AmbiguousCreateError, isAmbiguousCreate, type InvalidField } from "./errors.js";
export { Predictions, canonicalJson, outputUrls, outputsExpired, type CreatePredictionRequest, type PredictionTarget, type RunResult } from "./predictions.js";
export { Trainings, trainingProgress, type CreateTrainingRequest, type TrainingProgress, type TrainingResult } from "./trainings.js";
export { logsTail, isNsfwError, type PollOptions } from "./poll.js";
export { getAccount, getModel, findModel, getVersion, getLatestVersion, createModel, ensureModel, schemaFor, validateInput, type Account, type Model, type ModelVersion } from "./models.js";
export { assertValidInput, validateInputAgainst, inputSchemaOf, inputKeyFor, type InputKey, type OpenApiDocument } from "./input-schema.js";
export { uploadFile, MAX_UPLOAD_BYTES, type RemoteFile, type UploadRequest } from "./files.js";
export { downloadOutput, assertDownloadableUrl, type DownloadRequest, type DownloadResult } from "./download.js";
export { createRedactor, redactTokenShapes, type Redactor } from "./redact.js";
export { isTerminal, TERMINAL_STATUSES, type Prediction, type Training, type RemoteStatus } from "./types.js";
