/**
 * Picking the checkpoint whose samples look most like the person (pure). ai-toolkit writes
 * `samples/<unix_ms>__<step 9 digits>_<index>.jpg` (double underscore, index not padded) and
 * checkpoints `<name>_<step 9 digits>.safetensors`, the final one `<name>.safetensors`
 * (ostris/ai-toolkit jobs/process/BaseSDTrainProcess.py).
 */
import type { ImageScore } from "./similarity.js";

const SAMPLE_NAME = /(?:^|\/)(\d+)__(\d{9})_(\d+)\.(?:jpe?g|png|webp)$/i;

export interface SampleName {
  timeMs: number;
  step: number;
  index: number;
}

export function parseSampleName(file: string): SampleName | undefined {
  const m = SAMPLE_NAME.exec(file);
  if (!m) return undefined;
  return { timeMs: Number(m[1]), step: Number(m[2]), index: Number(m[3]) };
}

export function checkpointFileName(name: string, step: number): string {
  return `${name}_${String(step).padStart(9, "0")}.safetensors`;
}

export interface CheckpointScore {
  step: number;
  samples: number;
  /** Samples with exactly one face. */
  scored: number;
  /** Mean relative similarity over all samples; a sample without exactly one face counts as 0. */
  meanRelative: number;
  /** How many samples reach the `match` threshold. */
  matches: number;
  /** The checkpoint file this step saved (may have been pruned since, see `onDisk`). */
  checkpoint?: string;
  onDisk?: boolean;
}

export interface CheckpointChoice {
  steps: CheckpointScore[];
  best?: CheckpointScore;
}

/**
 * Groups sample scores by training step and ranks the steps by mean relative similarity (ties go
 * to the later step: more training at the same likeness generalises the prompt better). `files`
 * names the checkpoint files present, to say which one to use.
 */
export function chooseCheckpoint(
  scores: ImageScore[],
  options: { name?: string; files?: string[]; matchThreshold: number },
): CheckpointChoice {
  const groups = new Map<number, ImageScore[]>();
  for (const score of scores) {
    const parsed = parseSampleName(score.file);
    if (!parsed) continue;
    groups.set(parsed.step, [...(groups.get(parsed.step) ?? []), score]);
  }
  const present = new Set(options.files ?? []);
  const lastStep = Math.max(-1, ...groups.keys());
  const steps: CheckpointScore[] = [...groups.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([step, group]) => {
      const usable = group.filter((s) => s.faces === 1 && s.relative !== undefined);
      const total = group.reduce((sum, s) => sum + (s.faces === 1 ? (s.relative ?? 0) : 0), 0);
      const out: CheckpointScore = {
        step,
        samples: group.length,
        scored: usable.length,
        meanRelative: Math.round((total / group.length) * 1000) / 1000,
        matches: usable.filter((s) => (s.relative ?? 0) >= options.matchThreshold).length,
      };
      if (options.name) {
        const stepFile = checkpointFileName(options.name, step);
        const finalFile = `${options.name}.safetensors`;
        // The last step's samples come from the final save when the step file was pruned or never written.
        const file = present.has(stepFile) || step !== lastStep || !present.has(finalFile) ? stepFile : finalFile;
        out.checkpoint = file;
        out.onDisk = present.has(file);
      }
      return out;
    });
  const best = [...steps].sort((a, b) => b.meanRelative - a.meanRelative || b.step - a.step)[0];
  return best ? { steps, best } : { steps };
}
