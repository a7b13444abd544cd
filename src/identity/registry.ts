/**
 * The identity registry: one `<HEADSHOT_HOME>/identities/<name>/identity.json` per trained
 * identity, written atomically and only after training succeeded (so a file present means a
 * usable LoRA). `headshot identities list|show|rm` and `gen --identity` read it.
 */
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { z } from "zod";
import { UsageError } from "../errors.js";
import { writeJsonAtomic } from "../util/atomic-write.js";
import { closest } from "../util/did-you-mean.js";
import { identitiesRoot, identityPaths, validateIdentityName } from "./paths.js";

export const IDENTITY_SCHEMA_VERSION = 1;

const similaritySchema = z.object({ mean: z.number(), min: z.number(), p10: z.number(), count: z.number() });

export const identitySchema = z.looseObject({
  schemaVersion: z.literal(IDENTITY_SCHEMA_VERSION),
  name: z.string(),
  trigger: z.string(),
  classWord: z.string(),
  backend: z.string(),
  baseModel: z.string(),
  recipe: z.string(),
  lora: z.looseObject({ path: z.string(), sha256: z.string(), bytes: z.number(), step: z.number().optional() }),
  training: z.looseObject({
    steps: z.number(),
    rank: z.number(),
    lr: z.number(),
    resolutions: z.array(z.number()),
  }),
  dataset: z.looseObject({ dir: z.string(), hash: z.string(), images: z.number(), sourceDir: z.string() }),
  selfies: z.looseObject({
    verdict: z.string(),
    usable: z.number(),
    total: z.number(),
    selfSimilarity: similaritySchema.optional(),
    /** Mean of the usable selfies' unit face descriptors (renormalised): the reference for scoring. */
    embedding: z.object({ model: z.string(), dims: z.number(), count: z.number(), centroid: z.array(z.number()) }).optional(),
  }),
  createdAt: z.string(),
});

export type Identity = z.infer<typeof identitySchema>;

/** Centroid of unit embeddings, renormalised and rounded (six decimals keep the cosine exact enough). */
export function embeddingCentroid(embeddings: ReadonlyArray<ReadonlyArray<number>>): number[] | undefined {
  const first = embeddings[0];
  if (!first || first.length === 0) return undefined;
  const dims = first.length;
  const sum = new Array<number>(dims).fill(0);
  let count = 0;
  for (const e of embeddings) {
    if (e.length !== dims) continue;
    for (let i = 0; i < dims; i++) sum[i] = (sum[i] ?? 0) + (e[i] ?? 0);
    count++;
  }
  const norm = Math.sqrt(sum.reduce((acc, v) => acc + v * v, 0));
  if (count === 0 || norm === 0) return undefined;
  return sum.map((v) => Math.round((v / norm) * 1e6) / 1e6);
}

async function readIdentityFile(file: string): Promise<Identity> {
  const text = await readFile(file, "utf8");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${file} is not valid JSON`, { code: "E_IDENTITY_CORRUPT", cause: error, hint: "restore it, or remove the identity with `headshot identities rm <name>` and train again" });
  }
  const parsed = identitySchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(`${file} is not a valid identity record`, {
      code: "E_IDENTITY_CORRUPT",
      details: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
      hint: "restore it, or remove the identity with `headshot identities rm <name>` and train again",
    });
  }
  return parsed.data;
}

/** The identity, or undefined when it has not been registered (trained) yet. */
export async function findIdentity(home: string, name: string): Promise<Identity | undefined> {
  const { file } = identityPaths(home, validateIdentityName(name));
  try {
    await stat(file);
  } catch {
    return undefined;
  }
  return readIdentityFile(file);
}

export async function listIdentities(home: string): Promise<{ identities: Identity[]; problems: string[] }> {
  let names: string[];
  try {
    names = (await readdir(identitiesRoot(home), { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return { identities: [], problems: [] };
  }
  const identities: Identity[] = [];
  const problems: string[] = [];
  for (const name of names.sort()) {
    const { file } = identityPaths(home, name);
    try {
      await stat(file);
    } catch {
      continue; // a training that has not finished yet
    }
    try {
      identities.push(await readIdentityFile(file));
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { identities, problems };
}

/** Like findIdentity, but a missing identity is a UsageError with a "did you mean". */
export async function getIdentity(home: string, name: string): Promise<Identity> {
  const found = await findIdentity(home, name);
  if (found) return found;
  const { identities } = await listIdentities(home);
  const guess = closest(name, identities.map((i) => i.name));
  throw new UsageError(`no identity named "${name}" in ${identitiesRoot(home)}`, {
    code: "E_IDENTITY_NOT_FOUND",
    hint: guess
      ? `did you mean ${guess}? (headshot identities list)`
      : identities.length
        ? `known identities: ${identities.map((i) => i.name).join(", ")}`
        : `train one first: headshot train ./selfies --name ${name}`,
  });
}

export async function saveIdentity(home: string, identity: Identity): Promise<string> {
  const parsed = identitySchema.parse(identity);
  const { file } = identityPaths(home, validateIdentityName(parsed.name));
  await writeJsonAtomic(file, parsed);
  return file;
}

/** Removes the identity folder: registration, LoRA, checkpoints, samples and prepared dataset. */
export async function removeIdentity(home: string, name: string): Promise<string> {
  const { dir } = identityPaths(home, validateIdentityName(name));
  await rm(dir, { recursive: true, force: true });
  return dir;
}

/** Total bytes under a folder (for "this frees N MB" messages). */
export async function folderSize(dir: string): Promise<number> {
  let total = 0;
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    try {
      total += (await stat(`${entry.parentPath}/${entry.name}`)).size;
    } catch {
      // vanished meanwhile
    }
  }
  return total;
}
