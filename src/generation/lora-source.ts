/**
 * Where the identity's LoRA comes from on Replicate (replicate/cog-flux predict.py DevLoraPredictor; replicate/flux-fine-tuner predict.py):
 * - trained on Replicate: its trained version `owner/name:<64-hex>` runs through POST /predictions;
 * - trained locally: `black-forest-labs/flux-dev-lora` with `lora_weights` pointing at a copy the
 *   user hosts (`--lora-url`, or a `loraUrl` recorded on the identity).
 * Pure: reads the identity record (a loose object from src/identity/registry.ts) and the flags.
 */
import { UsageError } from "../errors.js";

export const TRAINED_VERSION_PATTERN = /^[A-Za-z0-9][\w.-]*\/[\w.-]+:[0-9a-f]{64}$/;

/** The identity fields gen reads; the registry may hold more. */
export interface IdentityLike {
  name: string;
  trigger: string;
  classWord: string;
  backend?: string;
  loraUrl?: unknown;
  replicate?: unknown;
  [key: string]: unknown;
}

/** The trained version recorded for a Replicate-trained identity, wherever the trainer put it. */
export function trainedVersionOf(identity: IdentityLike): string | undefined {
  const r = identity.replicate && typeof identity.replicate === "object" ? (identity.replicate as Record<string, unknown>) : {};
  const candidates = [r.version, r.trainedVersion, identity.trainedVersion, identity.replicateVersion, identity.version];
  return candidates.find((c): c is string => typeof c === "string" && TRAINED_VERSION_PATTERN.test(c));
}

export function recordedLoraUrl(identity: IdentityLike): string | undefined {
  return typeof identity.loraUrl === "string" && identity.loraUrl.trim() ? identity.loraUrl.trim() : undefined;
}

const ACCEPTED_FORMS = [
  "a Replicate model: owner/name (e.g. the destination of a Replicate training)",
  "a Hugging Face repo or file: huggingface.co/<user>/<repo>[/<file>.safetensors]",
  "a public (or signed) URL ending in .safetensors",
];

/**
 * Checks a `--lora-url` value against the forms flux-dev-lora accepts (replicate/cog-flux predict.py DevLoraPredictor) and
 * returns it in the form to send. Local paths are refused: Replicate cannot read your disk.
 */
export function normaliseLoraUrl(raw: string): string {
  const value = raw.trim();
  const bad = (why: string) =>
    new UsageError(`--lora-url ${JSON.stringify(raw)} ${why}`, {
      code: "E_LORA_URL",
      details: ["flux-dev-lora accepts:", ...ACCEPTED_FORMS.map((f) => `  - ${f}`)],
      hint: "upload the .safetensors file to a Hugging Face repo (or any public https host) and pass that URL",
    });
  if (/^(\.{0,2}\/|~|[A-Za-z]:\\)/.test(value) || (!value.includes("://") && /\.safetensors$/i.test(value) && !value.startsWith("huggingface.co/"))) {
    throw bad("looks like a local path; Replicate cannot read files on your computer");
  }
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw bad("is not a valid URL");
    }
    if (url.protocol !== "https:") throw bad("must use https");
    if (url.username || url.password) throw bad("must not contain credentials");
    const isHf = /(^|\.)huggingface\.co$/i.test(url.hostname);
    const isReplicate = /(^|\.)replicate\.(com|delivery)$/i.test(url.hostname);
    if (!isHf && !isReplicate && !/\.safetensors$/i.test(url.pathname) && !/civitai\.com$/i.test(url.hostname)) {
      throw bad("is neither a Hugging Face, Replicate or CivitAI URL nor a URL ending in .safetensors");
    }
    return value;
  }
  if (/^huggingface\.co\/[\w.-]+\/[\w.-]+/i.test(value) || /^civitai\.com\/models\/\d+/i.test(value)) return value;
  if (/^[A-Za-z0-9][\w.-]*\/[\w.-]+(\/[0-9a-f]{64})?$/.test(value)) return value;
  throw bad("is not in a form flux-dev-lora understands");
}

/** The UsageError for a locally trained identity with no hosted copy of its LoRA. */
export function loraNotHostedError(identity: IdentityLike): UsageError {
  return new UsageError(`Identity "${identity.name}" was trained locally; Replicate needs its LoRA at a public address`, {
    code: "E_LORA_NOT_HOSTED",
    details: [
      `Its LoRA file is on this computer${typeof identity.lora === "object" && identity.lora && "path" in identity.lora ? ` (${String((identity.lora as { path: unknown }).path)})` : ""}.`,
      "black-forest-labs/flux-dev-lora accepts as lora_weights:",
      ...ACCEPTED_FORMS.map((f) => `  - ${f}`),
    ],
    hint: `upload the .safetensors to a Hugging Face repo, then: headshot gen ... --identity ${identity.name} --lora-url huggingface.co/<you>/<repo>; or generate on your GPU with --backend local`,
  });
}

/** The base model family a LoRA was trained on, from the identity's recipe id or base model name. */
export function loraFamilyOf(identity: IdentityLike): "flux1-dev" | "flux1-schnell" | "flux2" | "unknown" {
  const recipe = typeof identity.recipe === "string" ? identity.recipe : "";
  const base = typeof identity.baseModel === "string" ? identity.baseModel : "";
  const text = `${recipe} ${base}`.toLowerCase();
  if (/flux\.?2/.test(text)) return "flux2";
  if (/schnell/.test(text)) return "flux1-schnell";
  if (/flux\.?1-dev|flux1-dev/.test(text)) return "flux1-dev";
  return "unknown";
}

/**
 * Replicate's LoRA endpoints load FLUX.1-dev LoRAs only: black-forest-labs/flux-dev-lora runs
 * replicate/cog-flux `DevLoraPredictor` (FLUX.1-dev weights), and a trained version runs the
 * flux-fine-tuner predictor on FLUX.1-dev. A LoRA trained on FLUX.2 (dev or klein) or on schnell
 * has other layer shapes or another base, so sending it would pay for predictions that fail or
 * ignore the identity. Refused before anything is sent.
 */
export function assertLoraFitsReplicate(identity: IdentityLike): void {
  const family = loraFamilyOf(identity);
  if (family === "flux1-dev" || family === "unknown") return;
  const base = typeof identity.baseModel === "string" ? identity.baseModel : String(identity.recipe);
  const what = family === "flux2" ? "FLUX.2" : "FLUX.1 schnell";
  throw new UsageError(`Identity "${identity.name}" was trained on ${what} (${base}); Replicate's LoRA models only load FLUX.1-dev LoRAs`, {
    code: "E_LORA_BASE_MISMATCH",
    details: [
      "black-forest-labs/flux-dev-lora and trained versions run FLUX.1-dev: a FLUX.2 or schnell LoRA would fail or be ignored there.",
      "Nothing was sent to Replicate.",
    ],
    hint:
      family === "flux2"
        ? `generate on your GPU where the ${what} base is loaded: headshot gen --identity ${identity.name} --backend local; or, without a LoRA, use FLUX.2 reference images on Replicate: headshot gen --ref <selfies dir> --model flux-2-dev`
        : `generate on your GPU: headshot gen --identity ${identity.name} --backend local; or train a FLUX.1-dev identity: headshot train <selfies> --name ${identity.name} --model flux1-dev (or --backend replicate)`,
  });
}

export interface LoraSource {
  trainedOn: "replicate" | "local";
  /** `owner/name:<hex>` of an identity trained on Replicate. */
  trainedVersion: string | undefined;
  /** lora_weights for flux-dev-lora: the flag, the identity's recorded copy, or its pinned version. */
  loraUrl: string | undefined;
}

/**
 * The LoRA-source rules (README "Backends"), shared by `gen` and each batch preset: what a backend
 * needs from the identity, and the error when a locally trained LoRA is not hosted anywhere.
 */
export function loraSourceFor(
  identity: IdentityLike,
  request: { backend: string; model?: string | undefined; loraFlag?: string | undefined; dryRun?: boolean | undefined },
): LoraSource {
  const trainedOn = identity.backend === "replicate" ? "replicate" : "local";
  if (request.backend === "replicate") assertLoraFitsReplicate(identity);
  const trainedVersion = trainedVersionOf(identity);
  let loraUrl = request.loraFlag ?? recordedLoraUrl(identity);
  if (request.backend === "replicate" && !loraUrl) {
    if (trainedOn === "replicate" && trainedVersion && request.model === "flux-dev-lora") {
      // The destination model as lora_weights of the official endpoint (replicate/flux-fine-tuner predict.py), pinned.
      const [owner, rest] = trainedVersion.split("/");
      const [modelName, hex] = (rest ?? "").split(":");
      loraUrl = `${owner}/${modelName}/${hex}`;
    } else if (trainedOn === "local" && !request.dryRun) {
      throw loraNotHostedError(identity);
    }
  }
  return { trainedOn, trainedVersion, loraUrl };
}
