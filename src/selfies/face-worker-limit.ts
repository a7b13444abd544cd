/**
 * How many face-model workers (faces.ts) a process runs. The models are the bulk of the memory of
 * `check`, `score` and scoring `gen`: each worker holds its own tfjs WASM heap, models and code.
 */
import { UsageError } from "../errors.js";

/**
 * A second model worker doubles the models' memory (each holds its own WASM heap, models and
 * code: about 200 MB once it has seen a 1000 px photo; test/bench/RESULTS.md) for about twice the
 * scoring speed on two cores. Below this much free memory the pool stays at one.
 */
const FREE_FOR_SECOND_WORKER = 1.5 * 2 ** 30;

/**
 * How many face-model workers may run: HEADSHOT_FACE_WORKERS (1 or 2) when set, for small
 * machines or a tight memory budget; otherwise one per core, at most 2, and one when free memory
 * is short. Pure: the caller passes the environment and the machine.
 */
export function faceWorkerLimit(env: NodeJS.ProcessEnv, machine: { cores: number; freeBytes: number }): number {
  const raw = env.HEADSHOT_FACE_WORKERS?.trim();
  if (raw) {
    if (raw !== "1" && raw !== "2") {
      throw new UsageError(`HEADSHOT_FACE_WORKERS must be 1 or 2 (got "${raw}").`, {
        hint: "set HEADSHOT_FACE_WORKERS=1 to run the face models in one worker (less memory, slower scoring), or unset it",
      });
    }
    return Number(raw);
  }
  return machine.cores >= 2 && machine.freeBytes >= FREE_FOR_SECOND_WORKER ? 2 : 1;
}
