/**
 * How a gallery thumbnail or contact-sheet tile is framed (pure, issue 15): the image's own aspect
 * ratio, the whole head of the detected face inside it, zoomed in at most a little. Centre crops
 * of 4:5 portraits cut off hair and forehead (and one of two faces); this never does.
 *
 * With one face: a region of the image's aspect ratio that holds the head (the face box grown by
 * HEAD_MARGIN, hair above and chin below), at least MIN_SHARE of the image's size, shifted to stay
 * inside the image. With no face, several faces, or no box recorded: the whole image.
 */
export type Box = readonly [number, number, number, number];

export interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Around a detected face box, in face widths/heights: the hair, the ears and the chin. */
export const HEAD_MARGIN = { above: 0.7, below: 0.45, side: 0.45 } as const;
/** Never zoom in more than 1/MIN_SHARE (~1.18x): a thumbnail still shows how the photo is framed, and a rehearsal preview keeps its label band. */
export const MIN_SHARE = 0.85;

export function headBox(face: Box): Box {
  const [x, y, w, h] = face;
  return [x - w * HEAD_MARGIN.side, y - h * HEAD_MARGIN.above, w * (1 + 2 * HEAD_MARGIN.side), h * (1 + HEAD_MARGIN.above + HEAD_MARGIN.below)];
}

export function thumbFrame(width: number, height: number, face: { faces: number; box?: Box | undefined }): Region {
  const whole: Region = { left: 0, top: 0, width, height };
  if (face.faces !== 1 || !face.box) return whole;
  const [hx, hy, hw, hh] = headBox(face.box);
  const aspect = width / height;
  // The smallest region of the image's aspect ratio that holds the head and MIN_SHARE of the image.
  let w = Math.max(hw, hh * aspect, width * MIN_SHARE);
  let h = w / aspect;
  if (w > width || h > height) return whole;
  const cx = hx + hw / 2;
  const cy = hy + hh / 2;
  const left = Math.min(Math.max(0, cx - w / 2), width - w);
  const top = Math.min(Math.max(0, cy - h / 2), height - h);
  w = Math.round(w);
  h = Math.round(h);
  return { left: Math.round(Math.min(left, width - w)), top: Math.round(Math.min(top, height - h)), width: w, height: h };
}
