/**
 * Where to crop each training image (pure). A close-up is head and shoulders: a square of 2.6
 * face widths, the face a little above centre. A wide crop spans up to 5.5 face widths so the
 * clothes and background differ from the close-ups (mix close-ups with
 * chest-up shots; fal#1024 shows what happens when clothing is learned as identity).
 */
export const OUTPUT_SIZE = 1024;
export const CLOSEUP_SPAN = 2.6;
export const WIDE_SPAN = 5.5;
/** A source can give a wide crop when a square of this many face widths fits inside it. */
export const WIDE_MIN_ROOM = 4;
/** Share of the set that gets a wide crop when sources allow. */
export const WIDE_SHARE = 0.25;

export type Box = [number, number, number, number];

export interface Region {
  left: number;
  top: number;
  size: number;
}

/** A square of `span` face widths around the face, shifted (not shrunk) to stay inside the frame. */
export function cropRegion(face: Box, width: number, height: number, span: number): Region {
  const [fx, fy, fw, fh] = face;
  const size = Math.max(1, Math.min(width, height, Math.round(Math.max(fw, fh) * span)));
  const cx = fx + fw / 2;
  // Put the face centre at 40% of the crop height, leaving room for shoulders below.
  const cy = fy + fh / 2 + size * 0.1;
  const left = Math.round(Math.min(Math.max(0, cx - size / 2), width - size));
  const top = Math.round(Math.min(Math.max(0, cy - size / 2), height - size));
  return { left, top, size };
}

/** How many face widths of square fit in the frame. */
export function room(face: Box, width: number, height: number): number {
  return Math.min(width, height) / Math.max(1, face[2], face[3]);
}

/** The face box mapped into the OUTPUT_SIZE square of a region. */
export function faceInOutput(face: Box, region: Region): Box {
  const k = OUTPUT_SIZE / region.size;
  return [Math.round((face[0] - region.left) * k), Math.round((face[1] - region.top) * k), Math.round(face[2] * k), Math.round(face[3] * k)];
}

/**
 * Picks which images get a wide crop: about a quarter of the set, the ones with the most room
 * around the face, and only when a wide square fits (ties broken by order, so it is deterministic).
 */
export function pickWide(items: Array<{ face: Box; width: number; height: number }>): Set<number> {
  const target = items.length >= 4 ? Math.max(1, Math.round(items.length * WIDE_SHARE)) : 0;
  const ranked = items
    .map((item, index) => ({ index, room: room(item.face, item.width, item.height) }))
    .filter((r) => r.room >= WIDE_MIN_ROOM)
    .sort((a, b) => b.room - a.room || a.index - b.index);
  return new Set(ranked.slice(0, target).map((r) => r.index));
}
