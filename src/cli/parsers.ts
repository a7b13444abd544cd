/** Option value parsers shared by commands; each error says what a valid value looks like. */
import { InvalidArgumentError } from "commander";

export function wholeNumber(name: string, min: number, max = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? `${min} or more` : `from ${min} to ${max}`;
  return (raw: string) => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${name} must be a whole number ${range} (got "${raw}").`);
    }
    return value;
  };
}

/** Comma-separated whole numbers, e.g. `--resolution 512,768,1024`. */
export function wholeNumberList(name: string, example: string): (raw: string) => number[] {
  return (raw: string) => {
    const parts = raw.split(",").map((p) => p.trim());
    if (parts.some((p) => !/^\d+$/.test(p))) throw new InvalidArgumentError(`${name} must be whole numbers such as ${example} (got "${raw}").`);
    return parts.map(Number);
  };
}

export function positiveNumber(name: string, max = Number.MAX_SAFE_INTEGER): (raw: string) => number {
  return (raw: string) => {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value) || value <= 0 || value > max) {
      throw new InvalidArgumentError(`${name} must be a number above 0 (got "${raw}").`);
    }
    return value;
  };
}

/** A decimal within [min, max] (for --min-similarity and --budget). */
export function decimal(flag: string, min: number, max: number): (raw: string) => number {
  return (raw) => {
    const value = Number(raw.trim());
    if (raw.trim() === "" || !Number.isFinite(value) || value < min || value > max) {
      throw new InvalidArgumentError(`${flag} must be a number from ${min} to ${max} (got "${raw}").`);
    }
    return value;
  };
}

export function oneOf<T extends string>(name: string, values: ReadonlyArray<T>): (raw: string) => T {
  return (raw: string) => {
    if (!(values as ReadonlyArray<string>).includes(raw)) {
      throw new InvalidArgumentError(`${name} must be one of ${values.join(", ")} (got "${raw}").`);
    }
    return raw as T;
  };
}

/** For repeatable options such as --set a=1 --set b=2. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}
