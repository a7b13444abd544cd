/**
 * Every command the CLI offers. Each module is tiny (options, help, examples) and imports its
 * implementation only when run. Only commands that work end to end are listed here.
 */
import type { Command } from "commander";
import type { Wrap } from "../context.js";
import { registerPresets } from "./presets.js";
import { registerGen } from "./gen.js";
import { registerDoctor } from "./doctor.js";
import { registerCheck } from "./check.js";
import { registerTrain } from "./train.js";
import { registerIdentities } from "./identities.js";
import { registerScore } from "./score.js";
import { registerBatch } from "./batch.js";
import { registerPolish } from "./polish.js";

export type RegisterCommand = (program: Command, wrap: Wrap) => void;

export const COMMANDS: RegisterCommand[] = [
  registerGen,
  registerPresets,
  registerDoctor,
  registerCheck,
  registerTrain,
  registerIdentities,
  registerScore,
  registerBatch,
  registerPolish,
];
