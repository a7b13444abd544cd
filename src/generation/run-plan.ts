/**
 * A real `gen` run, after the plan: pick the backend, open (or resume) the manifest, validate the
 * inputs and upload references only when something is left to make, then run the engine.
 * No terminal output here: everything goes out through `onEvent` (the CLI renders it).
 */
import { UsageError } from "../errors.js";
import type { ReplicateSession } from "../replicate/client.js";
import type { PredictionTarget } from "../replicate/predictions.js";
import type { Env } from "../settings/settings.js";
import { VERSION } from "../version.js";
import { openBatch, type OpenedBatch } from "./batch-manifest.js";
import { runEngine, type CreateGate, type EngineEvent, type EngineResult } from "./engine.js";
import type { Generator } from "./generator.js";
import { TRAINED_VERSION_PATTERN, type IdentityLike } from "./lora-source.js";
import type { ManifestReference } from "./manifest.js";
import { MAX_REFERENCE_IMAGES, REPLICATE_MODEL_REFS, type GenModel } from "./model-inputs.js";
import type { GenPlan, PlannedImage } from "./plan.js";
import type { LocalRunEvent, LocalRunOptions } from "./local/backend-setup.js";
import type { GenBackend } from "./prepare-plan.js";
import { PRICE_TABLE, type PriceKey } from "../pricing/prices.js";
import type { ReferencePick } from "./references.js";
import type { RehearsalSource } from "./rehearsal/compose.js";

export const TOOL = `headshot ${VERSION}`;

export type RunEvent =
  | EngineEvent
  | { type: "batch.opened"; resumed: boolean; repairs: string[]; remaining: number; manifest: string }
  | { type: "references"; picked: ReferencePick["picked"]; skipped: ReferencePick["skipped"]; reused: boolean }
  | { type: "validated"; model: string; images: number; schema: boolean }
  | LocalRunEvent;

export interface RunGenInput {
  plan: GenPlan;
  backend: GenBackend;
  concurrency: number;
  /** Reference folder (FLUX.2 reference mode). */
  ref?: string | undefined;
  /** For trained-version: `owner/name:<hex>`. */
  trainedVersion?: string | undefined;
  /** The registered identity (the local backend needs its recipe and LoRA file). */
  identity?: IdentityLike | undefined;
  /** Where ai-toolkit's Python is (the local backend runs its venv), the GPU and memory mode. */
  local?: LocalRunOptions | undefined;
  env: Env;
  home: string;
  replicateBaseUrl?: string | undefined;
  signal: AbortSignal;
  onEvent?: (event: RunEvent) => void;
  now?: () => Date;
  /** `gen --until` / `--budget`: whether to create each image (engine.ts CreateGate). */
  gate?: CreateGate | undefined;
  /** `--backend test` with a known person: previews drawn from their selfies (rehearsal/). */
  rehearsal?: RehearsalSource | undefined;
  /**
   * The caller takes the generator (output.generator) and closes it: `gen --polish --backend local`
   * hands the loaded model to polish's face pass, so one Python process and one load serve both.
   * It is still closed here when the run throws.
   */
  keepGenerator?: boolean | undefined;
  /** Test hooks for pacing (never used by the CLI). */
  engine?: { maxAttempts?: number; retryDelayMs?: (attempt: number) => number };
  replicate?: { syncWaitSeconds?: number; pollIntervalMs?: number };
}

export interface RunGenOutput {
  result: EngineResult;
  opened: OpenedBatch;
  /** Undefined when nothing ran: every image was already done (complete-run.ts). */
  generator: Generator | undefined;
  /** The images are placeholders (the test backend). */
  placeholder: boolean;
  modelRef: string;
  references?: ManifestReference[] | undefined;
}

const REFERENCE_PLACEHOLDER = "[reference images]";
/** Reuse uploaded references only if they stay valid this much longer. */
const REFERENCE_MARGIN_MS = 30 * 60_000;

export function priceKey(model: GenModel): PriceKey {
  return model === "local" || model === "test" ? model : (`replicate:${model}` as PriceKey);
}

async function replicateGenerator(input: RunGenInput, references: () => string[]): Promise<{ generator: Generator; modelRef: string; session: ReplicateSession }> {
  const { createReplicateSession } = await import("../replicate/client.js");
  const { ReplicateGenerator } = await import("./backends/replicate.js");
  const session = createReplicateSession({ env: input.env, ...(input.replicateBaseUrl ? { baseUrl: input.replicateBaseUrl } : {}) });
  const model = input.plan.model;
  let target: PredictionTarget;
  if (model === "trained-version") {
    if (!input.trainedVersion || !TRAINED_VERSION_PATTERN.test(input.trainedVersion)) {
      throw new UsageError(`Identity "${input.plan.identity?.name ?? "?"}" has no trained Replicate version recorded`, {
        code: "E_IDENTITY_NO_VERSION",
        hint: "train it on Replicate (headshot train --backend replicate), or pass --model flux-dev-lora --lora-url <where the LoRA is hosted>",
      });
    }
    target = { version: input.trainedVersion };
  } else if (model === "local" || model === "test") {
    throw new Error(`replicate backend asked for model ${model}`);
  } else {
    target = { model: REPLICATE_MODEL_REFS[model] };
  }
  const isReference = model === "flux-2-dev" || model === "flux-2-pro" || model === "flux-2-klein-4b";
  const generator = new ReplicateGenerator({
    session,
    target,
    model,
    priceUsd: PRICE_TABLE.entries[priceKey(model)].perImageUsd,
    ...(isReference
      ? {
          resolveInputs: (image: PlannedImage) => {
            const field = model === "flux-2-klein-4b" ? "images" : "input_images";
            const urls = references();
            return { ...image.inputs, [field]: urls.length ? urls : [REFERENCE_PLACEHOLDER] };
          },
        }
      : {}),
    ...(input.replicate?.syncWaitSeconds !== undefined ? { syncWaitSeconds: input.replicate.syncWaitSeconds } : {}),
    ...(input.replicate?.pollIntervalMs !== undefined ? { pollIntervalMs: input.replicate.pollIntervalMs } : {}),
  });
  return { generator, modelRef: generator.modelRef, session };
}

/** The backend's Generator; a Replicate one reads the reference URLs once they are uploaded. */
async function buildGenerator(input: RunGenInput, referenceUrls: () => string[]): Promise<{ generator: Generator; modelRef: string; session?: ReplicateSession | undefined }> {
  if (input.backend === "test") {
    const { TestGenerator } = await import("./backends/test.js");
    const delay = Number(input.env.HEADSHOT_TEST_DELAY_MS ?? 0);
    return { generator: new TestGenerator({ delayMs: Number.isFinite(delay) && delay > 0 ? delay : 0, rehearsal: input.rehearsal }), modelRef: "test" };
  }
  if (input.backend === "local") {
    // The local GPU generator (src/generation/local) implements Generator too; backend-setup.ts
    // finds the Python, the GPU and its free memory, and builds the child's environment.
    const { buildLocalBackend } = await import("./local/backend-setup.js");
    const emit = (event: RunEvent) => input.onEvent?.(event);
    return { generator: await buildLocalBackend({ identity: input.identity, local: input.local, env: input.env, signal: input.signal, emit }), modelRef: "local" };
  }
  return replicateGenerator(input, referenceUrls);
}

/** Reference mode: reuses the batch's uploaded references while they are fresh, else picks and uploads them. */
async function ensureReferences(input: RunGenInput, session: ReplicateSession, opened: OpenedBatch, now: () => Date): Promise<ManifestReference[]> {
  const { plan, signal } = input;
  const emit = (event: RunEvent) => input.onEvent?.(event);
  const recorded = opened.store.data.batch.references;
  const max = MAX_REFERENCE_IMAGES[plan.model as keyof typeof MAX_REFERENCE_IMAGES];
  const fresh = recorded?.length && recorded.every((r) => r.expiresAt && Date.parse(r.expiresAt) - now().getTime() > REFERENCE_MARGIN_MS);
  if (fresh && recorded) {
    emit({ type: "references", picked: recorded.map((r) => ({ file: r.file, path: r.file, sha256: r.sha256, reason: r.reason ?? "" })), skipped: [], reused: true });
    return recorded;
  }
  const { selectReferences, referenceBytes } = await import("./references.js");
  const { uploadFile } = await import("../replicate/files.js");
  const pick = await selectReferences(input.ref as string, { home: input.home, max, signal });
  emit({ type: "references", picked: pick.picked, skipped: pick.skipped, reused: false });
  const references: ManifestReference[] = [];
  for (const [i, ref] of pick.picked.entries()) {
    const { bytes, sha256 } = await referenceBytes(ref.path);
    const file = await uploadFile(session, { bytes, filename: `reference-${i + 1}.jpg`, contentType: "image/jpeg", metadata: { purpose: "headshot-reference" }, signal });
    references.push({ file: ref.file, sha256, url: file.urls.get, expiresAt: file.expires_at, reason: ref.reason });
  }
  opened.store.data.batch.references = references;
  await opened.store.commit();
  return references;
}

export async function runGeneration(input: RunGenInput): Promise<RunGenOutput> {
  const { plan, signal } = input;
  const emit = (event: RunEvent) => input.onEvent?.(event);
  const now = input.now ?? (() => new Date());
  let referenceUrls: string[] = [];
  const { generator, modelRef, session } = await buildGenerator(input, () => referenceUrls);
  let handedOver = false;
  try {
    const opened = await openBatch(plan, { backend: input.backend, modelRef, placeholder: generator.placeholder, tool: TOOL }, now);
    const remaining = plan.images.filter((image) => opened.store.entry(image.key)?.status !== "done");
    emit({ type: "batch.opened", resumed: opened.resumed, repairs: opened.repairs, remaining: remaining.length, manifest: opened.store.path });

    // New creates need valid inputs and (reference mode) uploaded references; re-attaching does not.
    const needsCreate = remaining.some((image) => ["planned", "creating", "failed", "filtered"].includes(opened.store.entry(image.key)?.status ?? "planned"));
    let references: ManifestReference[] | undefined = opened.store.data.batch.references;
    if (input.ref && session && needsCreate) references = await ensureReferences(input, session, opened, now);
    if (references?.length) referenceUrls = references.map((r) => r.url);

    if (needsCreate && generator.prepare) {
      await generator.prepare({ signal, images: remaining });
      emit({ type: "validated", model: modelRef, images: remaining.length, schema: generator.id === "replicate" });
    }

    const result = await runEngine({
      plan,
      generator,
      store: opened.store,
      concurrency: input.concurrency,
      signal,
      tool: TOOL,
      onEvent: emit,
      now,
      ...(input.gate ? { gate: input.gate } : {}),
      ...(input.engine?.maxAttempts !== undefined ? { maxAttempts: input.engine.maxAttempts } : {}),
      ...(input.engine?.retryDelayMs ? { retryDelayMs: input.engine.retryDelayMs } : {}),
    });
    handedOver = input.keepGenerator === true;
    return { result, opened, generator, placeholder: generator.placeholder, modelRef, references };
  } finally {
    if (!handedOver) await generator.close();
  }
}
