/** `headshot polish <folder>`: the face detail pass (and optional upscale) that finishes headshots. */
import { Option, type Command } from "commander";
import type { Wrap } from "../context.js";
import type { PolishCliOptions } from "../../polish/options.js";
import { decimal, oneOf, wholeNumber } from "../parsers.js";

const EXAMPLES = `
Examples:
  $ headshot polish ./headshots/jane/corporate --identity jane
  $ headshot polish ./headshots/jane/corporate --identity jane --dry-run        faces, calls and cost
  $ headshot polish ./headshots/jane/corporate --identity jane --backend test   free rehearsal
  $ headshot polish ./out --identity jane --strength 0.3 --upscale 2 --json

What it does: finds each face (offline face models), repaints a square region around it with your
identity's LoRA at a moderate strength, blends it back through a feathered mask with colours
matched at the seam (pixels outside the mask are untouched), then scores likeness before and
after. The polished version is kept only if likeness did not drop by more than --margin;
otherwise the original is kept and the manifest says why. Both versions stay on disk:
  <folder>/polished/<name>.after.png   the face pass      <folder>/polished/<name>.png   the final
  <folder>/polished/polish-manifest.json                   requests, seeds, strength, both scores
Cost: one image-to-image prediction per face on Replicate (about the price of one generated image),
plus one Real-ESRGAN run per image with --upscale. --backend test is free and labels its change.
Re-run the same command to resume: finished images are skipped, running predictions collected.
Exit codes: 0 done, 2 bad options, 4 Replicate refused, 5 some images failed, 130 interrupted.
`;


export function registerPolish(program: Command, wrap: Wrap): void {
  program
    .command("polish")
    .description("face detail pass (and optional upscale) on a folder of headshots, kept only when likeness holds")
    .argument("<folder>", "folder of headshots (gen's output; the kept images at its top level)")
    .requiredOption("-i, --identity <name>", "trained identity whose LoRA repaints the face (headshot identities list)")
    .addOption(new Option("--backend <name>", "where the face pass runs").choices(["replicate", "local", "test"]).default("replicate"))
    .option("--strength <s>", "how much of the face region may be redrawn, 0.05-0.9", decimal("--strength", 0.05, 0.9), 0.35)
    .option("--upscale <x>", "enlarge the final image by this factor, 1-4 (0 = off)", decimal("--upscale", 0, 4), 0)
    .option("--upscaler <kind>", "auto (Real-ESRGAN with --backend replicate, else resize), resize (offline, not AI) or replicate", oneOf("--upscaler", ["auto", "resize", "replicate"] as const), "auto")
    .option("--margin <r>", "largest likeness drop (relative) that still keeps the polished version", decimal("--margin", 0, 1), 0.03)
    .option("--seed <n>", "base seed of the face passes (each face's seed is recorded)", wholeNumber("--seed", 0, 2_147_483_646), 0)
    .option("-p, --preset <name|file>", "take the face prompt's skin and lighting words, and the face pass's steps, guidance and LoRA scale, from this preset")
    .option("--lora-url <url>", "where a locally trained identity's LoRA is hosted (as for gen)")
    .option("--dry-run", "list the faces, the calls and their cost; run nothing (the face models run offline)")
    .addHelpText("after", EXAMPLES)
    .action(
      wrap(async (ctx, folder, rawOptions) => {
        const { runPolishCommand } = await import("../polish-command.js");
        await runPolishCommand(ctx, folder as string, rawOptions as PolishCliOptions);
      }),
    );
}
