/**
 * Finding and loading presets: user folders first (./presets, HEADSHOT_PRESET_PATH, project
 * config), then the built-ins shipped in the package's presets/ folder. `extends` chains are
 * followed with cycle detection; every problem in every file of the chain is reported with its
 * location before failing.
 */
import { createHash } from "node:crypto";
import { readdir, realpath } from "node:fs/promises";
import { basename, dirname, extname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { ConfigFileError, UsageError, type Diagnostic } from "../errors.js";
import { closest } from "../util/did-you-mean.js";
import { checkRegularFile, MAX_YAML_BYTES, NotReadableError, readYamlText, REASON_TEXT } from "../util/regular-file.js";
import { hasKnownKey, invalid, locatePath, parseYaml, toPlain, withoutSourceLines, zodDiagnostics } from "../yaml/located.js";
import { checkVariations } from "./variations.js";
import { DEFAULT_GENERATION, MAX_NAME_LENGTH, presetSchema, type GenerationSettings, type PresetFile } from "./schema.js";

/** presets/ sits at the package root, next to both src/ and dist/. */
export const BUILTIN_PRESETS_DIR = fileURLToPath(new URL("../../presets/", import.meta.url));

export interface PresetSource {
  name: string;
  path: string;
  builtin: boolean;
}

export interface ResolvedPreset {
  name: string;
  description: string | undefined;
  /** Files of the extends chain, the preset itself first. */
  chain: string[];
  /** The merged preset (extends applied), before generation defaults. */
  data: PresetFile;
  generation: Required<GenerationSettings>;
  /** sha256 of the merged preset: anything that changes the pictures changes the hash. */
  hash: string;
  warnings: Diagnostic[];
}

const YAML_EXTENSIONS = [".yaml", ".yml"];

function looksLikePath(ref: string): boolean {
  return ref.includes("/") || ref.includes("\\") || YAML_EXTENSIONS.includes(extname(ref));
}

async function listYaml(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir);
    return entries.filter((f) => YAML_EXTENSIONS.includes(extname(f)) && f !== "schema.json").sort();
  } catch {
    return [];
  }
}

/** Every preset reachable by name, user ones shadowing built-ins of the same name. */
export async function listPresets(userDirs: ReadonlyArray<string>): Promise<PresetSource[]> {
  const byName = new Map<string, PresetSource>();
  const dirs = [...userDirs.map((d) => ({ d, builtin: false })), { d: BUILTIN_PRESETS_DIR, builtin: true }];
  for (const { d, builtin } of dirs) {
    for (const file of await listYaml(d)) {
      const name = basename(file, extname(file));
      if (!byName.has(name)) byName.set(name, { name, path: join(d, file), builtin: builtin || resolve(d) === resolve(BUILTIN_PRESETS_DIR) });
    }
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Resolves a preset reference (a name or a path) to a file, or fails with the nearest name. */
export async function findPreset(ref: string, options: { cwd: string; userDirs: ReadonlyArray<string>; relativeTo?: string }): Promise<string> {
  if (looksLikePath(ref)) {
    const path = isAbsolute(ref) ? ref : resolve(options.relativeTo ?? options.cwd, ref);
    try {
      await checkRegularFile(path, MAX_YAML_BYTES);
      return path;
    } catch (error) {
      const reason = error instanceof NotReadableError ? error.reason : "missing";
      throw new UsageError(reason === "missing" ? `Preset file not found: ${path}` : `Preset ${path} is ${REASON_TEXT[reason]}`, {
        code: "E_PRESET_NOT_FOUND",
        hint:
          reason === "too-large"
            ? `a preset is a short YAML file (at most ${MAX_YAML_BYTES / 1024 / 1024} MB)`
            : "check the path, or pass a built-in preset name (headshot presets list)",
      });
    }
  }
  const all = await listPresets(options.userDirs);
  const found = all.find((p) => p.name === ref);
  if (found) return found.path;
  const suggestion = closest(ref, all.map((p) => p.name));
  throw new UsageError(`Unknown preset "${ref}"`, {
    code: "E_PRESET_NOT_FOUND",
    hint: suggestion
      ? `did you mean "${suggestion}"? (headshot presets list shows them all)`
      : `run "headshot presets list" to see the presets, or pass a file: --preset ./my-preset.yaml`,
  });
}

interface LoadedFile {
  path: string;
  data: PresetFile;
  warnings: Diagnostic[];
}

async function readPresetFile(path: string): Promise<{ loaded?: LoadedFile; diagnostics: Diagnostic[]; parsed: ReturnType<typeof parseYaml>["parsed"] }> {
  let text: string;
  try {
    text = await readYamlText(path);
  } catch (error) {
    const why = error instanceof NotReadableError ? REASON_TEXT[error.reason] : (error as NodeJS.ErrnoException).code ?? "unreadable";
    throw new UsageError(`Cannot read preset ${path}: ${why}`, { code: "E_PRESET_NOT_FOUND" });
  }
  const { parsed, diagnostics: found } = parseYaml(path, text);
  // A file that is not a preset at all never has its lines shown: it may hold secrets (issue 14, S2).
  const diagnostics = hasKnownKey(parsed, presetSchema) ? found : withoutSourceLines(found);
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length) return { diagnostics, parsed };
  const converted = toPlain(parsed);
  if ("diagnostic" in converted) return { diagnostics: [converted.diagnostic], parsed };
  const result = presetSchema.safeParse(converted.value ?? {});
  if (!result.success) {
    const problems = zodDiagnostics(parsed, presetSchema, result.error.issues);
    return { diagnostics: [...diagnostics, ...(hasKnownKey(parsed, presetSchema) ? problems : withoutSourceLines(problems))], parsed };
  }
  const variationProblems = checkVariations(result.data, parsed);
  if (variationProblems.length) return { diagnostics: [...diagnostics, ...variationProblems], parsed };
  return { loaded: { path, data: result.data, warnings: diagnostics }, diagnostics, parsed };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Deep merge for presets: objects merge, `avoid` lists add up, everything else is replaced. */
export function mergePresets(base: PresetFile, over: PresetFile): PresetFile {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(over)) {
    if (value === undefined || key === "extends" || key === "$schema") continue;
    const prev = out[key];
    if (key === "avoid" && Array.isArray(prev) && Array.isArray(value)) {
      out[key] = [...new Set([...(prev as string[]), ...(value as string[])])];
    } else if (key !== "variations" && isPlainObject(prev) && isPlainObject(value)) {
      out[key] = { ...prev, ...value };
    } else {
      out[key] = value;
    }
  }
  delete out.extends;
  delete out.$schema;
  return out as PresetFile;
}

/** Stable JSON (sorted keys) so equal presets hash equally whatever the key order in the file. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isPlainObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`)
      .join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * Where `extends` may point (issue 14, S2): a preset name on the search path, or a relative
 * `.yaml`/`.yml` file inside the extending file's own folder (links resolved). Anything else, an
 * absolute path, `../` out of the folder, a `.env`, is refused before it is opened, so nothing
 * of it can reach a message or a CI log.
 */
async function resolveExtends(ref: string, fromFile: string, options: { cwd: string; userDirs: ReadonlyArray<string> }): Promise<string> {
  if (!looksLikePath(ref)) return resolve(await findPreset(ref, options));
  const folder = dirname(fromFile);
  const refuse = (why: string): never => {
    throw new UsageError(`"${ref}" is refused: ${why}`, {
      code: "E_PRESET_EXTENDS_REFUSED",
      hint: `extends takes a preset name (headshot presets list) or a relative .yaml file inside ${folder}`,
    });
  };
  if (isAbsolute(ref)) refuse("extends takes no absolute paths");
  if (!YAML_EXTENSIONS.includes(extname(ref).toLowerCase())) refuse("only .yaml or .yml files can be extended");
  const target = resolve(folder, ref);
  const inside = (root: string, path: string) => {
    const rel = relative(root, path);
    return rel !== "" && !rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel);
  };
  if (!inside(folder, target)) refuse("it is outside the extending preset's folder");
  // Links: the real file must be inside the real folder too.
  const [realFolder, realTarget] = await Promise.all([realpath(folder).catch(() => folder), realpath(target).catch(() => target)]);
  if (!inside(realFolder, realTarget)) refuse("it links outside the extending preset's folder");
  return resolve(await findPreset(target, options));
}

export async function loadPreset(ref: string, options: { cwd: string; userDirs: ReadonlyArray<string> }): Promise<ResolvedPreset> {
  const path = await findPreset(ref, options);
  const chain: LoadedFile[] = [];
  const diagnostics: Diagnostic[] = [];
  const seen: string[] = [];
  let current: string | undefined = path;
  while (current) {
    const file = resolve(current);
    const { loaded, diagnostics: found, parsed } = await readPresetFile(file);
    diagnostics.push(...found.filter((d) => d.severity === "error"));
    if (!loaded) break;
    chain.push(loaded);
    seen.push(file);
    const parent = loaded.data.extends;
    if (!parent) break;
    let next: string;
    try {
      next = await resolveExtends(parent, file, options);
    } catch (error) {
      const hint = error instanceof UsageError ? error.hint : undefined;
      diagnostics.push({ severity: "error", message: `extends: ${(error as Error).message}`, location: locatePath(parsed, ["extends"]), ...(hint ? { hint } : {}) });
      break;
    }
    if (seen.includes(next)) {
      diagnostics.push({
        severity: "error",
        message: `extends makes a cycle: ${[...seen, next].map((p) => basename(p)).join(" -> ")}`,
        location: locatePath(parsed, ["extends"]),
        hint: "remove the extends from one of these presets",
      });
      break;
    }
    current = next;
  }
  if (diagnostics.length) {
    throw invalid(path, "Preset", diagnostics);
  }
  const merged = chain.reduceRight<PresetFile>((acc, file) => mergePresets(acc, file.data), {});
  const name = chain[0]?.data.name ?? basename(path, extname(path));
  if (name.length > MAX_NAME_LENGTH) {
    throw new UsageError(`Preset file name "${name.slice(0, 40)}…" is ${name.length} characters long; it names the output folder`, {
      code: "E_PRESET_NAME_TOO_LONG",
      hint: `rename the file, or give the preset a \`name:\` of at most ${MAX_NAME_LENGTH} characters`,
    });
  }
  const generation = { ...DEFAULT_GENERATION, ...(merged.generation ?? {}) };
  const hash = createHash("sha256").update(canonicalJson({ ...merged, generation })).digest("hex");
  return {
    name,
    description: merged.description,
    chain: chain.map((c) => c.path),
    data: { ...merged, name },
    generation,
    hash,
    warnings: chain.flatMap((c) => c.warnings),
  };
}

/** Validates files on their own (syntax, schema, extends chain), collecting every problem. */
export async function validatePresetFiles(files: ReadonlyArray<string>, options: { cwd: string; userDirs: ReadonlyArray<string> }): Promise<{ ok: string[]; failed: ConfigFileError[] }> {
  const ok: string[] = [];
  const failed: ConfigFileError[] = [];
  for (const file of files) {
    try {
      await loadPreset(looksLikePath(file) ? file : `./${file}`, options);
      ok.push(file);
    } catch (error) {
      if (error instanceof ConfigFileError) failed.push(error);
      else if (error instanceof UsageError) failed.push(new ConfigFileError(error.message, [], { ...(error.hint ? { hint: error.hint } : {}) }));
      else throw error;
    }
  }
  return { ok, failed };
}
