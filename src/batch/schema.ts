/**
 * The batch file (`headshot batch team.yaml`): people, what each gets, shared defaults and a
 * budget. Validated like presets (located errors, did-you-mean); presets/batch.schema.json is
 * generated from this for editors.
 */
import { z } from "zod";

const slug = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, "use lowercase letters, digits, '-' and '_'");

/**
 * Every curation flag of `gen`, with the same meaning and limits (src/cli/commands/gen.ts); set in
 * `defaults`, per person, or per preset entry (the nearest wins). Combinations are checked like
 * gen's flags (src/generate/options.ts checkGenerateOptions) before anything runs.
 */
const curationFlags = {
  keepBest: z.number().int().min(1).max(1000).optional().describe("Keep the K most recognisable images per preset (gen --keep-best); the others are marked, not moved."),
  minSimilarity: z.number().min(0).max(2).optional().describe("Reject images below this relative identity similarity (gen --min-similarity)."),
  until: z.number().int().min(1).max(1000).optional().describe("Keep generating until this many images look like the person (gen --until), within maxCount and budget."),
  maxCount: z.number().int().min(1).max(1000).optional().describe("With until: make at most this many images (gen --max-count; default 3 x until)."),
  budget: z
    .number()
    .min(0)
    .max(100_000)
    .optional()
    .describe("Per preset run: stop creating before its estimated cost passes this many USD (gen --budget). The top-level `budget:` caps the whole batch."),
  crops: z.boolean().optional().describe("Write face-aware crops (LinkedIn, avatar, banner) for kept images (gen --crops)."),
  score: z.boolean().optional().describe("false: no likeness scoring, the gallery is still written (gen --no-score)."),
  polish: z.boolean().optional().describe("Face detail pass on the kept images (gen --polish / --no-polish); default: the preset's polish.enabled."),
};

/** A preset entry: a name/file, or a name with its own count, overrides and curation flags. */
const presetEntry = z.union([
  z.string().min(1),
  z
    .object({
      preset: z.string().min(1).describe("Preset name or file (relative to the batch file)."),
      count: z.number().int().min(1).max(1000).optional(),
      set: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional().describe("Overrides, like --set."),
      ...curationFlags,
    })
    .strict(),
]);

/** What a person gets; shared by `defaults` and each person. */
const deliverables = {
  presets: z.array(presetEntry).min(1).optional().describe("Presets to generate for this person."),
  count: z.number().int().min(1).max(1000).optional().describe("Images per preset."),
  ...curationFlags,
  format: z.enum(["png", "jpg", "webp"]).optional(),
  backend: z.enum(["replicate", "local", "test"]).optional().describe("Where to train and generate; `test` makes free labelled placeholders."),
  class: z.enum(["man", "woman", "person"]).optional().describe("Class word used in captions and prompts."),
  trainSteps: z.number().int().min(100).max(6000).optional(),
};

export const personSchema = z
  .object({
    name: slug.describe("Identity name (also the output folder)."),
    selfies: z.string().min(1).optional().describe("Folder of 10-20 selfies (relative to the batch file). Trained when no identity exists or the selfies changed."),
    identity: slug.optional().describe("Use an already trained identity instead of training from selfies."),
    trigger: z.string().regex(/^[A-Za-z0-9]{2,16}$/, "2-16 letters or digits").optional(),
    ...deliverables,
  })
  .strict()
  .refine((p) => Boolean(p.selfies) !== Boolean(p.identity), {
    message: "give exactly one of `selfies` (train) or `identity` (already trained)",
  });

export const batchSchema = z
  .object({
    $schema: z.string().optional(),
    version: z.literal(1).optional().describe("Batch file format version."),
    out: z.string().optional().describe("Output root (default ./headshots); each person gets <out>/<name>/<preset>/."),
    budget: z.number().positive().optional().describe("Spend cap in USD for the whole batch: nothing is started that could exceed it."),
    concurrency: z.number().int().min(1).max(64).optional().describe("Predictions in flight across the whole batch."),
    defaults: z.object(deliverables).strict().optional(),
    people: z.array(personSchema).min(1, "list at least one person"),
  })
  .strict()
  .superRefine((batch, ctx) => {
    const seen = new Map<string, number>();
    batch.people.forEach((p, i) => {
      const first = seen.get(p.name);
      if (first !== undefined) ctx.addIssue({ code: "custom", path: ["people", i, "name"], message: `"${p.name}" is already listed (people[${first}])` });
      else seen.set(p.name, i);
      if (!p.presets && !batch.defaults?.presets) {
        ctx.addIssue({ code: "custom", path: ["people", i], message: "no presets: set `presets` here or in `defaults`" });
      }
    });
  });

export type BatchFile = z.infer<typeof batchSchema>;
export type BatchPerson = z.infer<typeof personSchema>;
export type PresetEntry = z.infer<typeof presetEntry>;
/** The curation flags a person, `defaults` or a preset entry may set. */
export type CurationFlags = { [K in keyof typeof curationFlags]?: z.infer<(typeof curationFlags)[K]> };
export const CURATION_FLAG_KEYS = Object.keys(curationFlags) as Array<keyof CurationFlags>;
