/**
 * The free rehearsal, where the person comes from: the prepared, face-centred 1024 px crops that
 * `check --fix` / `train` write (an identity's dataset, or a `--ref` folder prepared once into
 * `<HEADSHOT_HOME>/test-mode/rehearsal/<hash>/`), plus the shipped public-domain portrait that
 * looks least like the person (assets/rehearsal/, see its PROVENANCE.md) for planted identity
 * drift. "Least like" is measured with the scoring API, so a new face model needs no change here.
 */
import { readdir, readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { UsageError } from "../../errors.js";
import type { Identity } from "../../identity/registry.js";
import type { IdentityReference } from "../../scoring/similarity.js";
import { exists } from "../../util/fs.js";
import type { RehearsalCrop, RehearsalSource } from "./compose.js";

/** src/generation/rehearsal or dist/generation/rehearsal -> the package's assets/rehearsal. */
export const PORTRAITS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "assets", "rehearsal");
export const REHEARSAL_CACHE_DIR = join("test-mode", "rehearsal");

interface PreparedReport {
  prepared?: Array<{ file: string; kind?: string; faceBox?: [number, number, number, number] }>;
}

/** The crops of a prepared folder (`<root>/images`), close-ups first, from its report.json. */
export async function cropsOfDataset(imagesDir: string): Promise<RehearsalCrop[]> {
  let report: PreparedReport = {};
  try {
    report = JSON.parse(await readFile(join(dirname(imagesDir), "report.json"), "utf8")) as PreparedReport;
  } catch {
    report = {};
  }
  const listed = (report.prepared ?? []).filter((p) => p.faceBox && p.faceBox.length === 4);
  const files = new Set(await readdir(imagesDir).catch(() => [] as string[]));
  const ordered = [...listed.filter((p) => p.kind !== "wide"), ...listed.filter((p) => p.kind === "wide")];
  // The prepare step writes 1024 x 1024 crops (src/selfies/crop-geometry.ts OUTPUT_SIZE).
  return ordered.filter((p) => files.has(p.file)).map((p) => ({ path: join(imagesDir, p.file), width: 1024, height: 1024, faceBox: p.faceBox! }));
}

/** Prepares a selfie folder once (cached by its content hash) and returns crops and reference. */
async function prepareFolder(dir: string, home: string, signal?: AbortSignal): Promise<{ imagesDir: string; reference: IdentityReference | undefined }> {
  const { runCheck, prepareTrainingSet, DEFAULT_TRIGGER } = await import("../../selfies/index.js");
  const { sourceHash } = await import("../../training/train.js");
  const { referenceFromEmbeddings } = await import("../../scoring/reference.js");
  const report = await runCheck(dir, { home, ...(signal ? { signal } : {}) });
  const embeddings = report.images.filter((i) => i.verdict !== "reject" && i.embedding?.length).map((i) => i.embedding as number[]);
  const reference = referenceFromEmbeddings(`selfies ${dir}`, embeddings);
  const root = join(home, REHEARSAL_CACHE_DIR, sourceHash(report).slice(0, 16));
  if (!(await exists(join(root, "report.json")))) {
    await prepareTrainingSet(report, root, { trigger: DEFAULT_TRIGGER, classWord: "person", ...(signal ? { signal } : {}) });
  }
  return { imagesDir: join(root, "images"), reference };
}

/** Scores the shipped portraits against the person; the least alike stands in for a stranger. */
async function pickStranger(reference: IdentityReference, home: string, signal?: AbortSignal): Promise<RehearsalSource["stranger"]> {
  const { scoreImages } = await import("../../scoring/score-images.js");
  const files = (await readdir(PORTRAITS_DIR)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort();
  const scores = await scoreImages(
    files.map((f) => join(PORTRAITS_DIR, f)),
    reference,
    { home, ...(signal ? { signal } : {}) },
  );
  const usable = scores.filter((s) => s.faces === 1 && s.face && s.width && s.height && s.relative !== undefined);
  usable.sort((a, b) => (a.relative ?? 0) - (b.relative ?? 0));
  const best = usable[0];
  if (!best?.face || !best.width || !best.height) throw new Error(`no usable portrait in ${PORTRAITS_DIR}`);
  const who = (best.path.split(/[\\/]/).pop() ?? "").replace(/\.[^.]+$/, "").replace(/-/g, " ");
  return { path: best.path, width: best.width, height: best.height, faceBox: best.face.box, who };
}

export interface RehearsalRequest {
  /** HEADSHOT_HOME for caches (the test-mode one for rehearsal identities). */
  home: string;
  identity?: Pick<Identity, "name" | "dataset" | "selfies"> | undefined;
  /** A folder of selfies (`--ref`). */
  selfies?: string | undefined;
  signal?: AbortSignal | undefined;
}

/** The person's crops and a stranger, or a usage error saying what is missing. */
export async function loadRehearsalSource(request: RehearsalRequest): Promise<RehearsalSource> {
  const { referenceFromIdentity, loadReference } = await import("../../scoring/reference.js");
  const signal = request.signal;
  let label: string;
  let imagesDir: string;
  let reference: IdentityReference | undefined;
  if (request.identity) {
    label = `identity ${request.identity.name}`;
    imagesDir = request.identity.dataset.dir;
    reference = referenceFromIdentity(request.identity as Identity) ?? (await loadReference({ home: request.home, selfies: imagesDir, ...(signal ? { signal } : {}) }));
  } else if (request.selfies) {
    label = `selfies ${request.selfies}`;
    ({ imagesDir, reference } = await prepareFolder(request.selfies, request.home, signal));
  } else {
    throw new Error("a rehearsal needs an identity or a selfie folder");
  }
  const crops = await cropsOfDataset(imagesDir);
  if (!crops.length || !reference) {
    throw new UsageError(`the rehearsal has no prepared selfies of ${label} to show`, {
      code: "E_REHEARSAL_NO_SELFIES",
      hint: request.identity
        ? `train it again with the selfies at hand: headshot train <selfies> --name ${request.identity.name} --backend test --force`
        : `run \`headshot check ${request.selfies}\`: at least two usable photos of you alone are needed`,
    });
  }
  return { label, crops, stranger: await pickStranger(reference, request.home, signal) };
}
