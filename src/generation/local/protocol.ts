/**
 * The line protocol between headshot (Node) and `headshot_generate.py` (Python, one process per batch).
 *
 * One JSON object per line in both directions; the Python side keeps stdout for protocol lines only
 * and sends every human log to stderr. The authoritative description is the docstring at the top of
 * `headshot_generate.py`; these types mirror it and the tests keep both sides honest.
 *
 *   Node -> Python: job, shutdown
 *   Python -> Node: loading, ready, progress, image, error, bye
 */
import { z } from "zod";

/** FLUX models the local generator can drive, named as in `--model` of headshot_generate.py. */
export const LOCAL_MODEL_IDS = ["flux1-dev", "flux1-schnell", "flux2-dev", "flux2-klein-4b", "flux2-klein-9b"] as const;
export type LocalModelId = (typeof LOCAL_MODEL_IDS)[number];

export type OffloadMode = "none" | "model" | "sequential";
export type QuantizeMode = "none" | "8bit" | "4bit";

// ---- Node -> Python -------------------------------------------------------------------------------

export interface JobMessage {
  type: "job";
  id: string;
  prompt: string;
  /** Floored to a multiple of 16 by the Python side if it is not one already. */
  width: number;
  height: number;
  steps: number;
  guidance: number;
  seed: number;
  lora_scale: number;
  /** Absolute path; the image is written there atomically. */
  out: string;
  /**
   * Image-to-image (headshot polish's face pass, FLUX.1 only): the picture, strength 0..1, and a mask
   * (white = repaint) to inpaint; without a mask, img2img over the whole picture.
   */
  image?: string;
  mask?: string;
  strength?: number;
}

export interface ShutdownMessage {
  type: "shutdown";
}

export type NodeMessage = JobMessage | ShutdownMessage;

export function encodeMessage(message: NodeMessage): string {
  return `${JSON.stringify(message)}\n`;
}

// ---- Python -> Node -------------------------------------------------------------------------------

export const ERROR_CODES = ["oom", "bad_job", "lora", "model_access", "dependency", "internal"] as const;
export type GenerateErrorCode = (typeof ERROR_CODES)[number];

const loading = z.object({ type: z.literal("loading"), message: z.string() });
const ready = z.object({
  type: z.literal("ready"),
  model: z.string(),
  device: z.string(),
  offload: z.enum(["none", "model", "sequential"]),
  quantize: z.enum(["none", "8bit", "4bit"]).optional(),
});
const progress = z.object({
  type: z.literal("progress"),
  id: z.string(),
  step: z.number().int().nonnegative(),
  total: z.number().int().positive(),
});
const image = z.object({
  type: z.literal("image"),
  id: z.string(),
  path: z.string(),
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  seed: z.number().int(),
});
const error = z.object({
  type: z.literal("error"),
  id: z.string().optional(),
  // Unknown codes from a newer script are kept as "internal" rather than dropped as garbage.
  code: z.string().transform((code): GenerateErrorCode => ((ERROR_CODES as readonly string[]).includes(code) ? (code as GenerateErrorCode) : "internal")),
  message: z.string(),
});
const bye = z.object({ type: z.literal("bye") });

const pythonMessage = z.discriminatedUnion("type", [loading, ready, progress, image, error, bye]);

export type LoadingMessage = z.infer<typeof loading>;
export type ReadyMessage = z.infer<typeof ready>;
export type ProgressMessage = z.infer<typeof progress>;
export type ImageMessage = z.infer<typeof image>;
export type ErrorMessage = z.infer<typeof error>;
export type ByeMessage = z.infer<typeof bye>;
export type PythonMessage = z.infer<typeof pythonMessage>;

export type ParsedLine = { ok: true; message: PythonMessage } | { ok: false; line: string; reason: string };

/**
 * Parses one stdout line. Never throws: a line that is not a protocol message (a stray print from a
 * library, a truncated write) comes back as `ok: false` with the reason, so the caller can report it
 * and carry on.
 */
export function parseProtocolLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, line, reason: "not JSON" };
  }
  const parsed = pythonMessage.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join(".")}` : "";
    return { ok: false, line, reason: `not a protocol message${where}: ${issue?.message ?? "invalid"}` };
  }
  return { ok: true, message: parsed.data };
}

/**
 * Splits a byte stream into lines (UTF-8 safe across chunk boundaries); a last partial line is
 * flushed by end(). With `carriageReturns`, a lone \r also ends a line: tqdm progress bars (model
 * downloads on stderr) redraw with \r and would otherwise grow one endless line.
 */
export class LineSplitter {
  private buffer = "";
  private readonly decoder = new TextDecoder("utf-8");
  private readonly separator: RegExp;

  constructor(
    private readonly onLine: (line: string) => void,
    options: { carriageReturns?: boolean } = {},
  ) {
    this.separator = options.carriageReturns ? /\r\n|\n|\r(?=.)/s : /\r?\n/;
  }

  push(chunk: Uint8Array | string): void {
    this.buffer += typeof chunk === "string" ? chunk : this.decoder.decode(chunk, { stream: true });
    let match = this.separator.exec(this.buffer);
    while (match) {
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      if (line.trim() !== "") this.onLine(line);
      match = this.separator.exec(this.buffer);
    }
  }

  end(): void {
    this.buffer += this.decoder.decode();
    const rest = this.buffer.trim();
    this.buffer = "";
    if (rest !== "") this.onLine(rest);
  }
}
