/**
 * Recovery of creates lost to a kill. A resumed batch may hold images whose create was sent by a
 * killed run before its id reached the manifest (creates are recorded without waiting for the
 * disk: the id is written as soon as the answer comes). The backend looks for them by their exact
 * inputs (every image has its own seed) and they are re-attached instead of paid for again.
 */
import type { Generator, RemoteRef } from "./generator.js";
import type { ManifestStore } from "./manifest.js";
import type { GenPlan } from "./plan.js";

/** Replicate deletes inputs after an hour (https://replicate.com/docs/reference/http#predictions.get): older creates cannot be matched. */
const HORIZON_MS = 2 * 3_600_000;

export async function recoverLostCreates(options: {
  plan: GenPlan;
  generator: Generator;
  store: ManifestStore;
  signal: AbortSignal;
  now: () => Date;
  onRecovered: (key: string, remote: RemoteRef) => void;
}): Promise<void> {
  const { plan, generator, store } = options;
  const runs = store.data.batch.runs ?? [];
  if (!generator.recover || runs.length < 2) return;
  const now = options.now().getTime();
  const starts = runs.slice(0, -1).map((r) => Date.parse(r.startedAt)).filter((t) => t >= now - HORIZON_MS);
  if (!starts.length) return;
  const candidates = plan.images.flatMap((image) => {
    const e = store.entry(image.key);
    if (!e || e.predictionId || e.status === "done" || e.status === "downloaded" || e.status === "created") return [];
    const inputs = [e.inputs, generator.inputsFor ? generator.inputsFor(image) : image.inputs];
    return [{ key: image.key, inputs, knownIds: e.attempts.flatMap((a) => (a.remoteId ? [a.remoteId] : [])) }];
  });
  if (!candidates.length) return;
  const found = await generator.recover({ since: new Date(Math.min(...starts)).toISOString(), candidates, signal: options.signal });
  for (const [key, remote] of found) {
    await store.update(key, (e) => {
      e.status = "created";
      e.predictionId = remote.id;
      e.modelRef = remote.modelRef;
      if (remote.version) e.version = remote.version;
      if (remote.webUrl) e.webUrl = remote.webUrl;
      const last = e.attempts[e.attempts.length - 1];
      if (last && !last.endedAt) last.remoteId = remote.id;
      else e.attempts.push({ n: e.attempts.length + 1, startedAt: e.creatingSince ?? new Date(now).toISOString(), remoteId: remote.id });
      delete e.creatingSince;
    });
    options.onRecovered(key, remote);
  }
}
