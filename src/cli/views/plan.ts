/** Human rendering of a generation plan (gen --dry-run). */
import type { GenPlan } from "../../generation/plan.js";
import { REPLICATE_MODEL_REFS } from "../../generation/model-inputs.js";
import { formatDuration } from "./format.js";
import type { Reporter } from "../reporter.js";

const BACKEND_LABELS: Record<string, string> = {
  "replicate:trained-version": "Replicate, trained LoRA version",
  "replicate:flux-dev-lora": "Replicate, flux-dev-lora + LoRA",
  "replicate:flux-2-dev": "Replicate, FLUX.2 dev (references)",
  "replicate:flux-2-pro": "Replicate, FLUX.2 pro (references)",
  "replicate:flux-2-klein-4b": "Replicate, FLUX.2 klein 4B (references)",
  local: "local GPU (ai-toolkit venv)",
  test: "test (placeholders, free)",
};

export { formatDuration };

function modelLabel(plan: GenPlan): string {
  if (plan.model === "trained-version") return "the identity's trained Replicate version";
  if (plan.model === "local") return "local GPU (diffusers + the identity's LoRA)";
  if (plan.model === "test") return "test backend (placeholder images)";
  return REPLICATE_MODEL_REFS[plan.model];
}

/**
 * `missing`: what a real run of this command still needs (a person), said instead of "run the
 * same command without --dry-run" when that would fail (issue 15).
 */
export function renderPlan(plan: GenPlan, reporter: Reporter, options: { missing?: string | undefined } = {}): string {
  const s = reporter.style.bind(reporter);
  const who = plan.identity ? `${plan.identity.name} ("${plan.identity.trigger} ${plan.identity.classWord}")` : `none: [trigger] placeholders shown`;
  const seedNote = plan.seedSource === "flag" ? "from --seed" : plan.seedSource === "manifest" ? `reused from the earlier run in this folder (${plan.outDir}/manifest.json): a real run resumes that batch; pass --out for a new one` : "random; pass --seed to reproduce";
  const lines: string[] = [
    s("bold", `Plan: ${plan.images.length} image${plan.images.length === 1 ? "" : "s"} from preset ${plan.preset.name}`),
    `  identity  ${who}`,
    `  preset    ${plan.preset.chain.join(" <- ")} (sha256 ${plan.preset.hash.slice(0, 12)})`,
    `  model     ${modelLabel(plan)}`,
    `  seeds     base ${plan.seedBase} (${seedNote})`,
    `  output    ${plan.outDir}`,
    "",
  ];
  for (const image of plan.images) {
    lines.push(`${s("bold", String(image.index).padStart(3))}  ${image.fileName}`);
    lines.push(`     variation ${image.variation.label}${Object.keys(image.variation.axes).length ? ` (${Object.entries(image.variation.axes).map(([k, v]) => `${k}=${v}`).join(", ")})` : ""}   seed ${image.seed}`);
    lines.push(`     prompt    ${image.prompt}`);
    const { prompt: _prompt, ...inputs } = image.inputs;
    lines.push(`     inputs    ${JSON.stringify(inputs)}${typeof _prompt === "string" && _prompt !== image.prompt ? " (prompt: the JSON form for FLUX.2)" : ""}`);
  }
  lines.push("", s("bold", `Estimated cost and time for ${plan.images.length} images:`));
  const width = Math.max(...plan.estimates.map((e) => (BACKEND_LABELS[e.backend] ?? e.backend).length));
  for (const e of plan.estimates) {
    const label = (BACKEND_LABELS[e.backend] ?? e.backend).padEnd(width);
    const cost = e.costUsd === 0 ? "free" : `$${e.costUsd.toFixed(2)}${e.verified ? "" : "*"}`;
    lines.push(`  ${label}  ${cost.padStart(7)}  ~${formatDuration(e.seconds)}`);
  }
  lines.push(
    s("dim", `  * unverified price (${plan.priceTable.source}, as of ${plan.priceTable.asOf})`),
    "",
    options.missing
      ? `Dry run: nothing was generated or paid. To generate, ${options.missing}.`
      : `Dry run: nothing was generated or paid. Run the same command without --dry-run to generate.`,
  );
  return lines.join("\n");
}
