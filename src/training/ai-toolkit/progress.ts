/**
 * Parses ai-toolkit's training progress bar (tqdm default format on stderr, updates separated by
 * `\r`) into numbers. Pure. Format and quirks: ostris/ai-toolkit toolkit/progress_bar.py:
 *   `jane:  12%|█▏        | 120/1000 [04:10<29:20,  2.00s/it, lr: 1.0e-04 loss: 4.123e-01]`
 * Only lines whose desc equals the job name count: download, quantization, latent caching and
 * sampling bars share the stream and must be ignored.
 */

export interface ProgressUpdate {
  step: number;
  total: number;
  percent: number;
  elapsedSeconds: number;
  etaSeconds?: number;
  secondsPerStep?: number;
  lr?: number;
  loss?: number;
}

// The regex suggested in ostris/ai-toolkit toolkit/progress_bar.py, anchored on the desc we expect.
const BAR =
  /^(?<desc>.+?):\s+(?<pct>\d+)%\|[^|]*\|\s*(?<n>\d+)\/(?<total>\d+)\s+\[(?<elapsed>[\d:]+)<(?<eta>[\d:?]+),\s*(?<rate>[\d.?]+)\s*(?<unit>s\/it|it\/s)(?:,\s*lr:\s*(?<lr>[-+\d.eE]+))?(?:\s+loss:\s*(?<loss>[-+\d.eEnaif]+))?/;

// CSI sequences (colours, cursor moves from nested bars) and other escapes.
// eslint-disable-next-line no-control-regex -- matching terminal escape codes is the point
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b[@-Z\\-_]/g;

export function stripAnsi(text: string): string {
  return text.replace(ANSI, "");
}

/** `MM:SS` or `H:MM:SS` -> seconds; undefined for `?`. */
export function parseClock(text: string): number | undefined {
  if (!/^\d+(:\d+){1,2}$/.test(text)) return undefined;
  return text.split(":").reduce((acc, part) => acc * 60 + Number(part), 0);
}

function optionalNumber(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Parses one bar update; undefined for anything else (other bars, log lines). */
export function parseProgressLine(line: string, jobName: string): ProgressUpdate | undefined {
  const match = BAR.exec(stripAnsi(line).trim());
  const g = match?.groups;
  if (!g || g.desc !== jobName) return undefined;
  const step = Number(g.n);
  const total = Number(g.total);
  const elapsedSeconds = parseClock(g.elapsed ?? "") ?? 0;
  const etaSeconds = parseClock(g.eta ?? "");
  const rate = optionalNumber(g.rate);
  const secondsPerStep = rate === undefined || rate === 0 ? undefined : g.unit === "s/it" ? rate : 1 / rate;
  const update: ProgressUpdate = { step, total, percent: Number(g.pct), elapsedSeconds };
  if (etaSeconds !== undefined) update.etaSeconds = etaSeconds;
  if (secondsPerStep !== undefined) update.secondsPerStep = secondsPerStep;
  const lr = optionalNumber(g.lr);
  if (lr !== undefined) update.lr = lr;
  // "nan" / "inf" losses (issue #503) stay undefined rather than becoming NaN in JSON.
  const loss = optionalNumber(g.loss);
  if (loss !== undefined) update.loss = loss;
  return update;
}

/**
 * Splits a child's output stream into records on `\r` and `\n` (tqdm updates end with `\r`;
 * `\n` only arrives when a bar closes), keeping a partial record across chunks.
 */
export class LineSplitter {
  private rest = "";

  push(chunk: string): string[] {
    const parts = (this.rest + chunk).split(/[\r\n]+/);
    this.rest = parts.pop() ?? "";
    return parts.filter((p) => p.trim() !== "");
  }

  flush(): string[] {
    const last = this.rest;
    this.rest = "";
    return last.trim() === "" ? [] : [last];
  }
}

/** `1:02:03` style for ETAs shown to people. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : m > 0 ? `${m}m${String(sec).padStart(2, "0")}s` : `${sec}s`;
}
