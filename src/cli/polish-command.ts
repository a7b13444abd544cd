/** `headshot polish <folder>`: flags to the polish use case (src/polish/polish-folder.ts), events to the view. */
import { resolve } from "node:path";
import type { PolishCliOptions } from "../polish/options.js";
import type { CommandContext } from "./context.js";

export async function runPolishCommand(ctx: CommandContext, folder: string, options: PolishCliOptions): Promise<void> {
  const settings = await ctx.settings();
  const home = settings.home.value;
  const { lookupIdentity } = await import("../generate/generate.js");
  const identity = await lookupIdentity(home, options.identity);
  const { polishFolder, presetPolish } = await import("../polish/polish-folder.js");
  const words = options.preset ? (await presetPolish(options.preset, { cwd: ctx.cwd, presetDirs: settings.presetDirs })).words : undefined;
  const { PolishView, showPolishResult } = await import("./views/polish.js");
  const view = new PolishView(ctx.reporter, folder);
  let result;
  try {
    result = await polishFolder(
      {
        dir: resolve(ctx.cwd, folder),
        shown: folder,
        identity,
        home,
        backend: options.backend,
        strength: options.strength,
        upscale: options.upscale,
        upscaler: options.upscaler,
        margin: options.margin,
        seed: options.seed,
        words,
        loraUrl: options.loraUrl,
        env: ctx.env,
        replicateBaseUrl: settings.replicateBaseUrl.value,
        local: { aiToolkitDir: settings.aiToolkitDir.value, aiToolkitPython: settings.aiToolkitPython },
        dryRun: options.dryRun,
      },
      ctx.io(view.onEvent),
    );
  } finally {
    view.stop();
  }
  showPolishResult(ctx.reporter, result);
  if (!result.dryRun && result.error) throw result.error;
}
