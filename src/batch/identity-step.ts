/**
 * The check -> train part of a batch for one person: an identity that is registered and whose
 * selfies did not change is used as it is; a new person, or one whose selfies changed (content
 * hash of the checked set, as `train` records it in training/state.json), is trained. The old
 * identity of a changed set is moved aside (`<home>/identities-superseded/<name>-<hash8>/`), never
 * deleted. Test mode trains free placeholder identities under `<home>/test-mode/`, so a real
 * identity is never replaced by a placeholder.
 */
import { mkdir, rename } from "node:fs/promises";
import { join } from "node:path";
import { UsageError } from "../errors.js";
import { identityPaths } from "../identity/paths.js";
import type { Identity } from "../identity/registry.js";
import type { Budget } from "./budget.js";
import { estimateTrainingUsd } from "./budget.js";
import { BudgetStop } from "./outcome.js";
import type { ResolvedPerson } from "./resolve.js";
import type { Lane } from "./slots.js";
import type { Env, GlobalSettings } from "../settings/settings.js";
import type { TrainOutcome, TrainUseCaseEvent } from "../training/train.js";
import type { TrainBackend } from "../training/trainers.js";
import { exists } from "../util/fs.js";

export const TEST_HOME_DIR = "test-mode";
export const SUPERSEDED_IDENTITIES_DIR = "identities-superseded";

export type IdentityEvent =
  | { type: "identity.reused"; person: string; identity: string; placeholder: boolean }
  | { type: "identity.selfies-changed"; person: string; identity: string; movedTo: string }
  | { type: "identity.training"; person: string; identity: string; backend: string; estimateUsd: number; restart?: boolean }
  | { type: "identity.trained"; person: string; identity: string; backend: string; placeholder: boolean; costUsd: number }
  | { type: "train.event"; person: string; event: TrainUseCaseEvent };

export interface IdentityStepInput {
  settings: GlobalSettings;
  env: Env;
  signal: AbortSignal;
  now: () => Date;
  person: ResolvedPerson;
  /** The real HEADSHOT_HOME. */
  home: string;
  budget: Budget;
  /** Serialises local GPU work. */
  gpu: Lane;
  /** Serialises use of the face models (checks, scoring): see `withFaces`. */
  faces: Lane;
  onEvent: (event: IdentityEvent) => void;
  /** Start a new (paid) training where the last Replicate training of this person failed. */
  retrainFailed?: boolean;
}

/** A failed remote training is remembered: re-running reports it again instead of paying again. */
export const FAILED_TRAINING_CODES = ["E_REPLICATE_TRAINING_FAILED"];

export interface IdentityStepResult {
  identity: Identity;
  /** HEADSHOT_HOME the identity lives in (the test-mode folder for placeholders). */
  home: string;
  placeholder: boolean;
  trained: boolean;
  costUsd: number;
}

/** Where an identity of this backend lives: test identities never share the real registry. */
export function homeFor(home: string, backend: string): string {
  return backend === "test" ? join(home, TEST_HOME_DIR) : home;
}

export function isPlaceholderIdentity(identity: Identity): boolean {
  return identity.placeholder === true || identity.backend === "test";
}

/** What the identity record says a training cost (Replicate trainers record it), else 0. */
export function trainingCostOf(identity: Identity): number {
  const candidates = [identity.costUsd, (identity.training as Record<string, unknown>).costUsd, (identity.replicate as Record<string, unknown> | undefined)?.costUsd, (identity.replicate as Record<string, unknown> | undefined)?.billedUsd];
  const found = candidates.find((c): c is number => typeof c === "number" && Number.isFinite(c));
  return found ?? 0;
}

/** `train` for one person, writing into `home` (test mode: its own registry), never prompting. */
function trainSettings(input: IdentityStepInput, home: string): { settings: GlobalSettings; env: Env } {
  return {
    settings: { ...input.settings, home: { value: home, source: "env", from: "HEADSHOT_HOME" } },
    env: { ...input.env, HEADSHOT_HOME: home },
  };
}

async function sourceHashNow(person: ResolvedPerson, home: string, signal: AbortSignal): Promise<string> {
  const { runCheck } = await import("../selfies/index.js");
  const { sourceHash } = await import("../training/train.js");
  return sourceHash(await runCheck(person.selfies as string, { home, signal }));
}

export async function ensureIdentity(input: IdentityStepInput): Promise<IdentityStepResult> {
  const home = homeFor(input.home, input.person.backend);
  if (!input.person.trains) return readIdentity(input, home);
  return (await reuseUnchanged(input, home)) ?? trainPerson(input, home);
}

/** `identity:` only reads the record; test mode may read a real one (it never writes it). */
async function readIdentity(input: IdentityStepInput, home: string): Promise<IdentityStepResult> {
  const { person } = input;
  const { findIdentity } = await import("../identity/registry.js");
  const placeholder = person.backend === "test";
  const own = await findIdentity(home, person.identity);
  const found = own ?? (placeholder ? await findIdentity(input.home, person.identity) : undefined);
  if (!found) {
    throw new UsageError(`people[${person.name}]: no identity named "${person.identity}"`, {
      code: "E_IDENTITY_NOT_FOUND",
      hint: `train it first (headshot train <selfies> --name ${person.identity}), or give this person \`selfies:\` so the batch trains it`,
    });
  }
  if (!placeholder && isPlaceholderIdentity(found)) throw placeholderRefused(person);
  input.onEvent({ type: "identity.reused", person: person.name, identity: found.name, placeholder: isPlaceholderIdentity(found) });
  // The home the record was found in: generate reads the identity (reference, rehearsal) from there.
  return { identity: found, home: own ? home : input.home, placeholder: isPlaceholderIdentity(found), trained: false, costUsd: 0 };
}

/** The registered identity if its selfies did not change; a changed one is moved aside (undefined). */
async function reuseUnchanged(input: IdentityStepInput, home: string): Promise<IdentityStepResult | undefined> {
  const { person, onEvent } = input;
  const { findIdentity } = await import("../identity/registry.js");
  const paths = identityPaths(home, person.identity);
  const registered = await findIdentity(home, person.identity);
  if (!registered) return undefined;
  if (person.backend !== "test" && isPlaceholderIdentity(registered)) throw placeholderRefused(person);
  const { readTrainingState } = await import("../training/state.js");
  const state = await readTrainingState(paths.trainingDir);
  const now = await input.faces.run(() => sourceHashNow(person, home, input.signal));
  if (!state || state.sourceHash === now) {
    onEvent({ type: "identity.reused", person: person.name, identity: registered.name, placeholder: isPlaceholderIdentity(registered) });
    return { identity: registered, home, placeholder: isPlaceholderIdentity(registered), trained: false, costUsd: 0 };
  }
  // The selfies changed: keep the old identity's folder, train a new one under the same name.
  const aside = join(home, SUPERSEDED_IDENTITIES_DIR);
  await mkdir(aside, { recursive: true });
  let target = join(aside, `${person.identity}-${state.sourceHash.slice(0, 8)}`);
  for (let i = 2; await exists(target); i++) target = join(aside, `${person.identity}-${state.sourceHash.slice(0, 8)}-${i}`);
  await rename(paths.dir, target);
  onEvent({ type: "identity.selfies-changed", person: person.name, identity: person.identity, movedTo: target });
  return undefined;
}

/** Trains within the batch budget; with --retrain-failed, a remembered failed training once more. */
async function trainPerson(input: IdentityStepInput, home: string): Promise<IdentityStepResult> {
  const { person, budget, onEvent } = input;
  const placeholder = person.backend === "test";
  const estimateUsd = person.backend === "replicate" ? estimateTrainingUsd(person.trainSteps) : 0;
  const reservation = budget.reserve(estimateUsd);
  if (!reservation) throw new BudgetStop("training", estimateUsd, budget);
  onEvent({ type: "identity.training", person: person.name, identity: person.identity, backend: person.backend, estimateUsd });
  let costUsd = 0;
  try {
    const { TRAIN_BACKENDS } = await import("../training/trainers.js");
    if (!(TRAIN_BACKENDS as readonly string[]).includes(person.backend)) {
      throw new UsageError(`people[${person.name}]: training on --backend ${person.backend} is not available in this build`, {
        code: "E_BACKEND_UNAVAILABLE",
        hint: `train with one of: ${TRAIN_BACKENDS.join(", ")}; or give an already trained \`identity:\``,
      });
    }
    // One GPU: local trainings (and the CPU-heavy checks) run one at a time; remote ones in parallel.
    let outcome;
    try {
      outcome = person.backend === "replicate" ? await trainInFaceLane(input, home) : await input.gpu.run(() => trainInFaceLane(input, home));
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (!input.retrainFailed || typeof code !== "string" || !FAILED_TRAINING_CODES.includes(code)) throw error;
      const again = budget.reserve(estimateUsd);
      if (!again) throw new BudgetStop("new training", estimateUsd, budget);
      onEvent({ type: "identity.training", person: person.name, identity: person.identity, backend: person.backend, estimateUsd, restart: true });
      try {
        outcome = await trainInFaceLane(input, home, true);
      } finally {
        again.settle(0);
      }
    }
    const identity = await markPlaceholder(home, outcome.identity as Identity, placeholder);
    costUsd = trainingCostOf(identity);
    onEvent({ type: "identity.trained", person: person.name, identity: identity.name, backend: person.backend, placeholder, costUsd });
    return { identity, home, placeholder, trained: true, costUsd };
  } finally {
    reservation.settle(costUsd);
  }
}

async function markPlaceholder(home: string, identity: Identity, placeholder: boolean): Promise<Identity> {
  if (!placeholder || identity.placeholder === true) return identity;
  const { saveIdentity } = await import("../identity/registry.js");
  const marked = { ...identity, placeholder: true };
  await saveIdentity(home, marked);
  return marked;
}

/**
 * One `train` run. It checks the selfies first, and a Replicate training then closes the shared
 * face model pool: the face lane is held from the start until the first event after the check.
 */
async function trainInFaceLane(input: IdentityStepInput, home: string, restart = false): Promise<TrainOutcome> {
  const { person } = input;
  const { trainIdentity } = await import("../training/train.js");
  const releaseFaces = await input.faces.acquire();
  let checked = false;
  // Released where it always was: once the training set is prepared (or, resuming, once the
  // trainer speaks), after the check and the face-model shutdown of a Replicate training.
  const onTrainEvent = (event: TrainUseCaseEvent) => {
    if (checked && (event.type === "dataset.prepared" || event.type === "trainer" || event.type === "train.ended")) releaseFaces();
    if (event.type === "selfies.checked") checked = true;
    input.onEvent({ type: "train.event", person: person.name, event });
  };
  try {
    return await trainIdentity(
      {
        ...trainSettings(input, home),
        childSharesTerminal: false,
        selfiesDir: person.selfies as string,
        name: person.identity,
        backend: person.backend as TrainBackend,
        options: {
          ...(person.classWord ? { classWord: person.classWord } : {}),
          ...(person.trainSteps ? { steps: person.trainSteps } : {}),
          ...(person.trigger ? { trigger: person.trigger } : {}),
        },
        force: false,
        dryRun: false,
        restart,
      },
      { signal: input.signal, now: input.now, onEvent: onTrainEvent },
    );
  } finally {
    releaseFaces();
  }
}

function placeholderRefused(person: ResolvedPerson): UsageError {
  return new UsageError(`people[${person.name}]: identity "${person.identity}" is a test-mode PLACEHOLDER and cannot be used with --backend ${person.backend}`, {
    code: "E_IDENTITY_PLACEHOLDER",
    hint: `remove it (headshot identities rm ${person.identity}) and let the batch train a real one from \`selfies:\``,
  });
}
