/** What a batch tells its caller while it runs; `person` (and `preset`) say whose it is. */
import type { GenStepEvent } from "./preset-step-types.js";
import type { IdentityEvent } from "./identity-step.js";

export type BatchEvent =
  | IdentityEvent
  | GenStepEvent
  | { type: "batch.start"; file: string; out: string; people: number; budget: number | null; spentUsd: number; concurrency: number; placeholder: boolean }
  | { type: "person.start"; person: string; backend: string; placeholder: boolean }
  | { type: "person.done"; person: string; status: string; images: number; expected: number; spentUsd: number; placeholder: boolean; stopped?: string; error?: Record<string, unknown> | undefined };
