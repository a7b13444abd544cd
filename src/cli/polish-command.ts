/** The `polish` use case behind the thin command file: identity, reference, backend, then dry run or run. */
import { resolve } from "node:path";
import { JobFailedError, UsageError } from "../errors.js";
import type { PolishEntry } from "../polish/manifest.js";
import type { PolishPresetSettings } from "../presets/schema.js";
import type { PolishEvent } from "../polish/run-polish.js";
import type { CommandContext } from "./context.js";
import type { PolishCliOptions } from "../polish/options.js";
import type { Reporter } from "./reporter.js";
import type { LocalRunEvent } from "../generation/local/backend-setup.js";
import type { Generator } from "../generation/generator.js";
import { jsonWorthy, renderLocalEvent } from "./views/local-gen.js";

const pct = (v: number | undefined): string => (v === undefined ? "-" : `${Math.round(v * 100)}%`);

/** The face prompt's words and the face pass's sampler (plan.ts polishSampler) from --preset. */
async function fromPreset(ctx: CommandContext, options: PolishCliOptions, identity: { trigger: string; classWord: string }, presetDirs: string[]) {
  const { polishSampler } = await import("../polish/plan.js");
  if (!options.preset) return { words: { trigger: identity.trigger, classWord: identity.classWord }, sampler: polishSampler(undefined) };
  const { loadPreset } = await import("../presets/load.js");
  const preset = await loadPreset(options.preset, { cwd: ctx.cwd, userDirs: presetDirs });
  return { words: { trigger: identity.trigger, classWord: identity.classWord, skin: preset.data.skin, lighting: preset.data.lighting }, sampler: polishSampler(preset.data) };
}

function renderDryRun(entries: PolishEntry[], describe: (entry: PolishEntry, faceIndex: number) => Record<string, unknown>, reporter: Reporter): string {
  const lines: string[] = [];
  for (const entry of entries) {
    if (!entry.faces.length) {
      lines.push(`${entry.file}: no face found, left as it is`);
      continue;
    }
    for (const face of entry.faces) {
      const [x, y, w, h] = face.box;
      lines.push(`${entry.file} face ${face.index}: box ${w}x${h} at ${x},${y}; region ${face.region.side}px at ${face.region.left},${face.region.top}; seed ${face.seed}`);
      lines.push(reporter.style("dim", `  inputs ${JSON.stringify(describe(entry, face.index))}`));
    }
  }
  return lines.join("\n");
}

function onEvent(reporter: Reporter, progress: { update: (text: string, data?: Record<string, unknown>) => void }): (event: PolishEvent) => void {
  return (event) => {
    const { type, ...data } = event;
    if (type === "polish.progress") {
      const eta = event.etaSeconds !== undefined && event.done < event.total ? `, about ${event.etaSeconds}s left` : "";
      progress.update(`Polished ${event.done}/${event.total}${eta}`, data);
      return;
    }
    reporter.event(type, data);
    if (type === "polish.image.started") progress.update(`Polishing ${event.index}/${event.total}: ${event.file}`);
    if (type === "polish.image.done") reporter.info(`${event.file}: ${event.decision === "polished" ? "polished" : "kept the original"} (${event.reason}) -> ${event.final}`);
    if (type === "polish.image.skipped") reporter.info(`${event.file}: ${event.reason}`);
  };
}

/**
 * Whether gen polishes after its batch: --polish / --no-polish, else the preset's `polish.enabled`.
 * Checked before anything is paid: polish repaints with the identity's LoRA, so it needs one.
 */
export async function polishWanted(
  ctx: CommandContext,
  options: { preset: string; polish?: boolean | undefined; identity?: string | undefined },
  presetDirs: string[],
): Promise<{ identity: string; settings: PolishPresetSettings } | undefined> {
  const { loadPreset } = await import("../presets/load.js");
  const settings = (await loadPreset(options.preset, { cwd: ctx.cwd, userDirs: presetDirs })).data.polish ?? {};
  if (!(options.polish ?? settings.enabled ?? false)) return undefined;
  if (!options.identity) {
    throw new UsageError("--polish repaints faces with a trained identity's LoRA; reference mode (--ref) has none", {
      code: "E_POLISH_IDENTITY",
      hint: "pass --identity <name>, or --no-polish (the preset enables polish)",
    });
  }
  return { identity: options.identity, settings };
}

export async function runPolishCommand(ctx: CommandContext, folder: string, options: PolishCliOptions): Promise<void> {
  await polishFolder(ctx, folder, options, "command");
}

/**
 * `gen --polish` (or `polish: {enabled: true}` in the preset): the same run on gen's output folder
 * once its batch is done; returns the summary for gen's own. Preset values fill what flags leave unset.
 */
export async function polishAfterGen(
  ctx: CommandContext,
  input: {
    outDir: string;
    identity: string;
    backend: PolishCliOptions["backend"];
    preset: string;
    loraUrl?: string | undefined;
    settings: PolishPresetSettings;
    /** gen's local backend, model still loaded: the face pass reuses it (and closes it). */
    localGenerator?: Generator | undefined;
  },
): Promise<Record<string, unknown> | undefined> {
  const { DEFAULT_POLISH } = await import("../polish/plan.js");
  const options: PolishCliOptions = {
    identity: input.identity,
    backend: input.backend,
    strength: input.settings.strength ?? DEFAULT_POLISH.strength,
    upscale: input.settings.upscale ?? 0,
    upscaler: "auto",
    margin: input.settings.margin ?? DEFAULT_POLISH.likenessMargin,
    seed: 0,
    preset: input.preset,
    ...(input.loraUrl ? { loraUrl: input.loraUrl } : {}),
  };
  return polishFolder(ctx, input.outDir, options, "after-gen", input.localGenerator);
}

async function polishFolder(ctx: CommandContext, folder: string, options: PolishCliOptions, mode: "command" | "after-gen", localGenerator?: Generator): Promise<Record<string, unknown> | undefined> {
  const settings = await ctx.settings();
  const home = settings.home.value;
  const dir = resolve(ctx.cwd, folder);
  const { lookupIdentity } = await import("../generate/generate.js");
  const identity = await lookupIdentity(home, options.identity);
  const { DEFAULT_POLISH, facePrompt, estimatePolish } = await import("../polish/plan.js");
  const { words, sampler } = await fromPreset(ctx, options, identity, settings.presetDirs);
  const polishSettings = { ...DEFAULT_POLISH, ...sampler, strength: options.strength, upscale: options.upscale, likenessMargin: options.margin, seed: options.seed };
  const prompt = facePrompt(words);
  const { createFacePass, createUpscaler } = await import("../polish/setup.js");
  const setup = {
    backend: options.backend,
    identity,
    env: ctx.env,
    replicateBaseUrl: settings.replicateBaseUrl.value,
    loraUrl: options.loraUrl,
    upscale: options.upscale,
    upscaler: options.upscaler,
    settings: polishSettings,
    testDelayMs: Number(ctx.env.HEADSHOT_TEST_DELAY_MS ?? 0) || undefined,
    local: { aiToolkitDir: settings.aiToolkitDir.value, aiToolkitPython: settings.aiToolkitPython },
    localGenerator,
    signal: ctx.signal,
    onLocalEvent: (event: LocalRunEvent) => {
      const { type, ...data } = event;
      if (jsonWorthy(event)) ctx.reporter.event(type, data);
      if (!ctx.globals.json) renderLocalEvent(ctx.reporter, event);
    },
  };
  const backend = await createFacePass(setup);
  const upscaler = await createUpscaler(setup);
  const { listKeptImages, planImage, runPolish } = await import("../polish/run-polish.js");
  const files = await listKeptImages(dir);
  const reporter = ctx.reporter;
  if (options.dryRun) {
    const progress = reporter.progress(`Finding faces in ${files.length} images (offline)…`);
    const entries: PolishEntry[] = [];
    for (const file of files) entries.push(await planImage(dir, file, { settings: polishSettings, prompt }));
    progress.stop();
    const faces = entries.reduce((s, e) => s + e.faces.length, 0);
    const estimate = estimatePolish({ images: entries.filter((e) => e.faces.length).length, faces, perFaceUsd: backend.priceUsd, secondsPerFace: backend.secondsPerFace, upscale: options.upscale, perUpscaleUsd: upscaler?.priceUsd ?? 0 });
    for (const e of entries) reporter.event("polish.plan", { file: e.file, faces: e.faces.map((f) => ({ box: f.box, region: f.region, seed: f.seed })) });
    reporter.result(renderDryRun(entries, (entry, i) => backend.describe({ key: "", imagePath: `<region ${i} of ${entry.file}>`, maskPath: "<mask>", prompt: entry.prompt, seed: entry.faces[i]!.seed, strength: entry.strength, side: 1024, ...sampler, rawDir: "", rawName: "" }), reporter));
    reporter.result(`\n${estimate.faces} face pass${estimate.faces === 1 ? "" : "es"} on ${backend.modelRef}${upscaler ? ` + ${estimate.upscales} upscale${estimate.upscales === 1 ? "" : "s"} (${upscaler.label})` : ""}: about $${estimate.costUsd.toFixed(3)}, ${estimate.seconds}s. Nothing was run.`);
    reporter.summary({ dryRun: true, dir, backend: backend.id, model: backend.modelRef, ...estimate });
    await backend.close();
    return undefined;
  }
  const { loadReference } = await import("../scoring/reference.js");
  const reference = await loadReference({ home, identity: options.identity, signal: ctx.signal });
  const progress = reporter.progress(`Polishing ${files.length} images in ${folder}…`);
  try {
    const outcome = await runPolish({ dir, identity: options.identity, prompt, settings: polishSettings, backend, upscaler, reference, home, files, signal: ctx.signal, onEvent: onEvent(reporter, progress) });
    progress.stop();
    const rows = Object.values(outcome.manifest.images).filter((e) => files.includes(e.file));
    reporter.result(rows.map((e) => `${e.file}: ${e.status === "skipped" ? e.note : e.status === "failed" ? `failed: ${e.note}` : `${e.decision === "polished" ? "polished" : "original kept"}, likeness ${pct(e.scores?.before.relative)} -> ${pct(e.scores?.after.relative)}, quality ${e.scores?.before.quality ?? "-"} -> ${e.scores?.after.quality ?? "-"}`}`).join("\n"));
    reporter.result(`\n${outcome.polished} polished, ${outcome.keptOriginal} kept as they were, ${outcome.skipped} without a face, ${outcome.failed} failed; cost $${outcome.costUsd.toFixed(3)}${backend.placeholder ? " (test backend: rehearsal, not a real face pass)" : ""}.\nManifest: ${outcome.manifestPath}`);
    const summary = { dir, backend: backend.id, model: backend.modelRef, placeholder: backend.placeholder, polished: outcome.polished, keptOriginal: outcome.keptOriginal, skipped: outcome.skipped, failed: outcome.failed, costUsd: outcome.costUsd, manifest: outcome.manifestPath };
    if (mode === "after-gen") return summary;
    if (outcome.failed) {
      throw new JobFailedError(`${outcome.failed} image${outcome.failed === 1 ? "" : "s"} could not be polished`, { code: "E_POLISH_INCOMPLETE", hint: `re-run the same command to retry them: headshot polish ${folder} --identity ${options.identity}`, details: [JSON.stringify(summary)] });
    }
    reporter.summary({ ok: true, ...summary });
    return summary;
  } catch (error) {
    progress.stop();
    throw error;
  } finally {
    await backend.close();
  }
}
