/**
 * Everything `gen --backend local` decides before the Python process starts: which interpreter
 * (as training finds it), the child's environment, which GPU and how much of it is free (nvidia-smi,
 * through training's queryGpu), and the events the CLI shows while the model loads and steps run.
 * src/generation/run-plan.ts calls buildLocalBackend(); the batch engine then drives the LocalBackend like any other.
 */
import { UsageError } from "../../errors.js";
import type { Env, Resolved } from "../../settings/settings.js";
import type { GpuInfo } from "../../gpu/gpu-info.js";
import type { IdentityLike } from "../lora-source.js";
import { LocalBackend } from "./local-backend.js";
import type { LocalGeneratorEvent } from "./local-generator.js";
import type { OffloadMode, QuantizeMode } from "./protocol.js";

export interface LocalRunOptions {
  aiToolkitDir?: string | undefined;
  aiToolkitPython?: Resolved<string | undefined>;
  /** CUDA_VISIBLE_DEVICES for the child (`--gpu`), e.g. "1" or "0,1". */
  gpu?: string | undefined;
  /** `--offload` / `--quantize`: override the mode chosen from free memory. */
  offload?: OffloadMode | undefined;
  quantize?: QuantizeMode | undefined;
}

/** What the CLI renders (human lines, or NDJSON events of the same type with --json). */
export type LocalRunEvent =
  | { type: "gen.local.python"; python: string; from: string }
  | { type: "gen.local.gpu"; gpu?: GpuInfo | undefined; error?: string | undefined; visibleDevices?: string | undefined }
  | { type: "gen.local.memory"; freeMiB: number | undefined; offload: OffloadMode; quantize: QuantizeMode; estimatedMiB: number | undefined; reason: string }
  | { type: "gen.local.loading"; message: string }
  | { type: "gen.local.ready"; model: string; device: string; offload: OffloadMode; quantize?: QuantizeMode | undefined; pid?: number | undefined }
  | { type: "gen.local.step"; key: string; attempt: number; step: number; total: number }
  | { type: "gen.local.log"; line: string };

/** Variables the child must never see: it has no use for the Replicate token (never print or pass it). */
const WITHHELD = ["REPLICATE_API_TOKEN"];

/**
 * The Python child's whole environment: the CLI's own (so HF_TOKEN, HF_HOME, PATH and a user's
 * CUDA_VISIBLE_DEVICES pass through) minus the Replicate token, unbuffered output, and with `--gpu`
 * the same CUDA_VISIBLE_DEVICES + PCI bus order as training (src/training/ai-toolkit/config.ts).
 */
export function localChildEnv(env: Env, gpu: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) if (value !== undefined && !WITHHELD.includes(key)) out[key] = value;
  out.PYTHONUNBUFFERED = "1";
  if (gpu !== undefined) {
    out.CUDA_VISIBLE_DEVICES = gpu;
    out.CUDA_DEVICE_ORDER = "PCI_BUS_ID";
  }
  return out;
}

/** Maps the generator's events to the CLI's; stderr and stray stdout become log lines. */
export function toRunEvent(event: LocalGeneratorEvent, pid?: number): LocalRunEvent | undefined {
  switch (event.type) {
    case "memory":
      return { type: "gen.local.memory", freeMiB: event.freeMiB, offload: event.offload, quantize: event.quantize, estimatedMiB: event.estimatedMiB, reason: event.reason };
    case "loading":
      return { type: "gen.local.loading", message: event.message };
    case "ready":
      return { type: "gen.local.ready", model: event.model, device: event.device, offload: event.offload, quantize: event.quantize, pid };
    case "progress": {
      // LocalBackend names jobs `<image key>#<attempt>`.
      const at = event.id.lastIndexOf("#");
      const key = at > 0 ? event.id.slice(0, at) : event.id;
      const attempt = at > 0 ? Number(event.id.slice(at + 1)) : 1;
      return { type: "gen.local.step", key, attempt, step: event.step, total: event.total };
    }
    case "stderr":
      return { type: "gen.local.log", line: event.line };
    case "garbage":
      return { type: "gen.local.log", line: `(stdout) ${event.line}` };
    default:
      return undefined;
  }
}

export interface BuildLocalInput {
  identity: IdentityLike | undefined;
  local: LocalRunOptions | undefined;
  env: Env;
  signal: AbortSignal;
  emit: (event: LocalRunEvent) => void;
}

export async function buildLocalBackend(input: BuildLocalInput): Promise<LocalBackend> {
  const { identity, local = {}, env, signal, emit } = input;
  const lora = identity?.lora && typeof identity.lora === "object" ? (identity.lora as { path?: unknown }).path : undefined;
  if (!identity || typeof lora !== "string") {
    throw new UsageError("--backend local needs an identity trained with a LoRA file on this computer", {
      code: "E_GEN_NO_SUBJECT",
      hint: "pass --identity <name> (headshot identities list), or use --backend replicate",
    });
  }
  const { findPython, queryGpu } = await import("../../training/ai-toolkit/locate.js");
  const { python, from } = await findPython(local.aiToolkitDir, { aiToolkitPython: local.aiToolkitPython ?? { value: undefined, source: "default" } });
  emit({ type: "gen.local.python", python, from });

  const childEnv = localChildEnv(env, local.gpu);
  // The GPU the child will see first: --gpu, else an inherited CUDA_VISIBLE_DEVICES, else GPU 0.
  const visibleDevices = local.gpu ?? (env.CUDA_VISIBLE_DEVICES?.trim() || undefined);
  let freeMiB: number | null = null;
  if (local.offload === undefined || local.quantize === undefined) {
    const { gpu, error } = await queryGpu(childEnv, visibleDevices, signal);
    emit({ type: "gen.local.gpu", gpu, error, visibleDevices });
    freeMiB = gpu?.freeMiB ?? null;
  }

  let pid: number | undefined;
  return new LocalBackend({
    python,
    pythonFrom: from,
    identity: {
      name: identity.name,
      recipe: String(identity.recipe ?? ""),
      baseModel: typeof identity.baseModel === "string" ? identity.baseModel : undefined,
      lora: { path: lora },
    },
    freeMiB,
    ...(local.offload !== undefined ? { offload: local.offload } : {}),
    ...(local.quantize !== undefined ? { quantize: local.quantize } : {}),
    env: childEnv,
    extendEnv: false,
    onEvent: (event) => {
      if (event.type === "spawn") pid = event.pid;
      const mapped = toRunEvent(event, pid);
      if (mapped) emit(mapped);
    },
  });
}
