/**
 * The project config, `headshot.config.yaml`, found in the working directory or its parents.
 * It holds team defaults (output folder, preset folders, ai-toolkit location, generation defaults).
 * It must never hold the Replicate token: that lives in the environment only.
 */
import { stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { readYamlText } from "../util/regular-file.js";
import { loadYamlWithSchema, locatePath, parseYaml } from "../yaml/located.js";

export const PROJECT_CONFIG_FILE = "headshot.config.yaml";

export const projectConfigSchema = z
  .object({
    home: z.string().optional().describe("Where identities and caches live (default: the platform's user data dir)."),
    out: z.string().optional().describe("Default output folder for gen (default ./headshots/<identity>/<preset>/)."),
    backend: z.enum(["replicate", "local", "test"]).optional().describe("Default backend for train and gen."),
    presets: z.array(z.string()).optional().describe("Extra folders with user presets, searched before the built-ins."),
    aiToolkit: z
      .object({
        dir: z.string().optional().describe("Path of the ostris/ai-toolkit checkout."),
        python: z.string().optional().describe("Python interpreter of that checkout."),
      })
      .strict()
      .optional(),
    replicate: z
      .object({ baseUrl: z.url().optional().describe("Replicate API base URL (for proxies and tests).") })
      .strict()
      .optional(),
    defaults: z
      .object({
        count: z.number().int().min(1).max(1000).optional(),
        format: z.enum(["png", "jpg", "webp"]).optional(),
        concurrency: z.number().int().min(1).max(64).optional(),
        model: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ProjectConfig = z.infer<typeof projectConfigSchema>;

/** Walks up from `cwd` to the filesystem root looking for headshot.config.yaml. */
export async function findProjectConfig(cwd: string): Promise<string | undefined> {
  let dir = cwd;
  for (;;) {
    const candidate = join(dir, PROJECT_CONFIG_FILE);
    try {
      await stat(candidate); // no read: a FIFO here must not hang (loadProjectConfig refuses it)
      return candidate;
    } catch {
      // not here; keep walking up
    }
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

const TOKEN_KEYS = ["token", "apiToken", "replicateApiToken", "REPLICATE_API_TOKEN", "api_token"];

export async function loadProjectConfig(path: string): Promise<{ path: string; config: ProjectConfig }> {
  let text: string;
  try {
    text = await readYamlText(path);
  } catch (error) {
    throw new UsageError(`Cannot read the project config ${path}: ${(error as Error).message.replace(`${path} is `, "")}`, {
      code: "E_CONFIG_UNREADABLE",
      hint: `make ${PROJECT_CONFIG_FILE} a regular YAML file under 1 MB, or remove it`,
    });
  }
  // Refuse a token in the file before anything else, so it is never echoed back in a diagnostic.
  const { parsed } = parseYaml(path, text);
  const replicate = parsed.doc.get("replicate") as { has?: (k: string) => boolean } | undefined;
  for (const key of TOKEN_KEYS) {
    if (parsed.doc.has(key) || replicate?.has?.(key)) {
      const loc = locatePath(parsed, replicate?.has?.(key) ? ["replicate"] : [], key);
      throw new UsageError(`${path}${loc ? `:${loc.line}` : ""} contains an API token; headshot never reads tokens from files`, {
        code: "E_TOKEN_IN_FILE",
        hint: "remove that line (and rotate the token if the file was shared), then set REPLICATE_API_TOKEN in your environment or CI secrets",
      });
    }
  }
  const { value } = loadYamlWithSchema(path, text, projectConfigSchema, "Project config");
  return { path, config: value };
}
