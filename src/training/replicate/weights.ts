/**
 * Takes `lora.safetensors` out of the trainer's `trained_model.tar` (https://replicate.com/docs/reference/http#trainings.create; replicate/flux-fine-tuner train.py:
 * `output/flux_train_replicate/lora.safetensors`, plus captions and a config we do not need).
 *
 * The tar comes from the network, so it is treated as hostile: an entry with an absolute path, a
 * `..` segment, a link, or a device makes the whole archive refused; only the one regular file we
 * want is ever written, to a path we choose, with a size cap; and the result must parse as a
 * safetensors file (8-byte little-endian header length + JSON) before it replaces anything.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { extract, type Header } from "tar-stream";
import { JobFailedError } from "../../errors.js";
import { tempPathFor } from "../../util/atomic-write.js";
import { readSafetensorsMetadata } from "../ai-toolkit/safetensors.js";

export const LORA_ENTRY = "output/flux_train_replicate/lora.safetensors";
export const WEIGHTS_PREFIX = "output/flux_train_replicate/";
/** A rank-128 FLUX.1 LoRA is about 1.2 GB in bf16; anything far beyond that is not ours. */
export const MAX_LORA_BYTES = 2 * 1024 * 1024 * 1024;

function hostile(message: string): JobFailedError {
  return new JobFailedError(`the weights archive from Replicate was refused: ${message}`, {
    code: "E_REPLICATE_WEIGHTS_UNSAFE",
    hint: "nothing was extracted; re-run to download it again, and report it if it persists",
  });
}

/** Why an entry may not be in a weights tar, or undefined when it is harmless. */
export function unsafeEntry(header: Header): string | undefined {
  const name = header.name;
  if (name.includes("\0")) return `entry name with a NUL byte`;
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name) || name.startsWith("\\")) return `absolute path ${JSON.stringify(name)}`;
  if (name.split(/[\\/]/).includes("..")) return `path escaping the archive ${JSON.stringify(name)}`;
  const type = header.type ?? "file";
  if (type === "symlink" || type === "link") return `${type} ${JSON.stringify(name)} -> ${JSON.stringify(header.linkname ?? "")}`;
  if (type !== "file" && type !== "contiguous-file" && type !== "directory") {
    return `${type} entry ${JSON.stringify(name)}`;
  }
  const normalised = name.replace(/^\.\//, "");
  if (!normalised.startsWith(WEIGHTS_PREFIX) && `${normalised}/` !== WEIGHTS_PREFIX && !WEIGHTS_PREFIX.startsWith(normalised.replace(/\/?$/, "/"))) {
    return `entry outside ${WEIGHTS_PREFIX}: ${JSON.stringify(name)}`;
  }
  return undefined;
}

export interface ExtractedLora {
  path: string;
  bytes: number;
  metadata: Record<string, string>;
}

/** Extracts the LoRA from `tarPath` to `target` (atomically), after checking every entry. */
export async function extractLora(tarPath: string, target: string, options: { maxBytes?: number } = {}): Promise<ExtractedLora> {
  const maxBytes = options.maxBytes ?? MAX_LORA_BYTES;
  await mkdir(dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  let found = false;
  let bytes = 0;
  const tar = extract();
  const input = createReadStream(tarPath);
  // Failures are collected and the streams destroyed without an error, so nothing is emitted
  // after we stopped listening.
  let failure: Error | undefined;
  let writing: Promise<void> = Promise.resolve();
  const done = new Promise<void>((resolve) => {
    let settled = false;
    const finish = (): void => {
      if (!settled) {
        settled = true;
        resolve();
      }
    };
    const fail = (error: Error): void => {
      failure ??= error;
      input.destroy();
      tar.destroy();
      finish();
    };
    tar.on("entry", (header, stream, next) => {
      const problem = unsafeEntry(header);
      if (problem) return fail(hostile(problem));
      const name = header.name.replace(/^\.\//, "");
      if (name !== LORA_ENTRY || header.type === "directory") {
        stream.on("end", next);
        stream.resume();
        return;
      }
      if (found) return fail(hostile(`${LORA_ENTRY} appears twice`));
      found = true;
      if (header.size !== undefined && header.size > maxBytes) return fail(hostile(`${LORA_ENTRY} is ${header.size} bytes, over the ${maxBytes}-byte cap`));
      const out = createWriteStream(temp);
      stream.on("data", (chunk: unknown) => {
        bytes += (chunk as Buffer).length;
        if (bytes > maxBytes) fail(hostile(`${LORA_ENTRY} exceeds the ${maxBytes}-byte cap`));
      });
      writing = pipeline(stream, out).then(
        () => next(),
        (error: unknown) => fail(error as Error),
      );
    });
    tar.on("finish", finish);
    tar.on("close", finish);
    tar.on("error", (error: Error) => fail(error));
    input.on("error", (error: Error) => fail(error));
    input.pipe(tar);
  });
  try {
    await done;
    await writing.catch(() => undefined);
    if (failure) throw failure;
    if (!found) throw hostile(`it has no ${LORA_ENTRY}`);
    let metadata: Record<string, string>;
    try {
      metadata = await readSafetensorsMetadata(temp);
    } catch (error) {
      throw hostile(`${LORA_ENTRY} is not a safetensors file (${(error as Error).message.replace(temp, "lora.safetensors")})`);
    }
    await rename(temp, target);
    return { path: target, bytes, metadata };
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
