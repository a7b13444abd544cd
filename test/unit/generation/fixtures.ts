/**
 * Test fixtures for gen: registered identities (through the real registry) and trained models in
 * the Replicate emulator. Imported by test/unit/generation, test/cli/gen* and test/e2e/gen*.
 */
import { createHash } from "node:crypto";
import type { ReplicateEmulator } from "../../support/replicate-emulator/index.js";
import { trainedVersionSchema } from "../../support/replicate-emulator/catalog.js";
import { saveIdentity, type Identity } from "../../../src/identity/registry.js";

export async function registerIdentity(home: string, name: string, extra: Record<string, unknown> = {}): Promise<Identity> {
  const identity = {
    schemaVersion: 1 as const,
    name,
    trigger: "ohwx",
    classWord: "woman",
    backend: "local",
    baseModel: "flux1-dev",
    recipe: "balanced",
    lora: { path: `/home/${name}/lora.safetensors`, sha256: "0".repeat(64), bytes: 1024 },
    training: { steps: 1000, rank: 16, lr: 0.0004, resolutions: [512, 768, 1024] },
    dataset: { dir: `/home/${name}/dataset`, hash: "1".repeat(64), images: 12, sourceDir: `/home/${name}/selfies` },
    selfies: { verdict: "ok", usable: 12, total: 12 },
    createdAt: "2026-11-01T00:00:00.000Z",
    ...extra,
  } as Identity;
  await saveIdentity(home, identity);
  return identity;
}

/**
 * Adds `jane-doe/<name>` with one trained version (what a Replicate training leaves:
 * https://replicate.com/docs/reference/http#trainings.create). `editSchema` changes its input schema (e.g. an older fine-tuner version with narrower limits).
 */
type SchemaInput = { properties: Record<string, Record<string, unknown>>; [key: string]: unknown };

export function addTrainedModel(emu: ReplicateEmulator, name: string, editSchema?: (input: SchemaInput) => void): string {
  const now = Date.now();
  const hex = createHash("sha256").update(name).digest("hex");
  const schema = trainedVersionSchema() as { components: { schemas: { Input: SchemaInput } } };
  editSchema?.(schema.components.schemas.Input);
  emu.state.models.set(`jane-doe/${name}`, {
    owner: "jane-doe",
    name,
    description: null,
    visibility: "private",
    is_official: false,
    hardware: "gpu-t4",
    versions: [{ id: hex, created_at: now, cog_version: "0.14.0", openapi_schema: schema }],
    run_count: 0,
    created_at: now,
  });
  return `jane-doe/${name}:${hex}`;
}

/** Requests that created a prediction (the emulator logs the created id). */
export function predictionCreates(emu: ReplicateEmulator): Array<{ path: string; input: Record<string, unknown>; id: string }> {
  return emu.requests
    .filter((r) => r.method === "POST" && /\/predictions$/.test(r.path) && r.createdId)
    .map((r) => ({ path: r.path, input: (r.body as { input: Record<string, unknown> }).input, id: r.createdId as string }));
}
