/**
 * Text metrics without a font engine: per-character width classes of a Helvetica/Arial-like sans
 * serif, close enough to size boxes so that labels fit (the language layer has no DOM to measure).
 */

export const FONT_FAMILY = 'Helvetica, Arial, sans-serif';

const NARROW = new Set([..."iljtfrI.,:;'!|()[]{} "]);
const WIDE = new Set([...'mwMW@%']);

/** Approximate advance width of `text` at `size` px. */
export function textWidth(text: string, size: number, bold = false): number {
  let em = 0;
  for (const ch of text) {
    if (NARROW.has(ch)) em += 0.3;
    else if (WIDE.has(ch)) em += 0.86;
    else if (ch >= 'A' && ch <= 'Z') em += 0.68;
    else if (ch >= '0' && ch <= '9') em += 0.56;
    else if (ch.charCodeAt(0) > 0x2e80)
      em += 1; // CJK and other full-width characters
    else em += 0.54;
  }
  return em * size * (bold ? 1.07 : 1);
}

/**
 * Word-wraps `text` into at most `maxLines` lines no wider than `maxWidth`; words longer than a
 * line are cut, and what does not fit ends in an ellipsis.
 */
export function wrapText(
  text: string,
  maxWidth: number,
  size: number,
  maxLines: number,
  bold = false,
): string[] {
  const normal = text.replace(/\s+/g, ' ').trim();
  const words = normal.split(' ');
  const lines: string[] = [];
  let line = '';
  const fits = (s: string) => textWidth(s, size, bold) <= maxWidth;
  for (let i = 0; i < words.length; i++) {
    let word = words[i]!;
    const candidate = line === '' ? word : `${line} ${word}`;
    if (fits(candidate)) {
      line = candidate;
      continue;
    }
    if (line !== '') {
      lines.push(line);
      line = '';
    }
    // Cut over-long words (ARNs, paths, camelCase names) at the line width, preferably where a
    // new word starts (lower→upper case, after - _ . : /) in the last third of the line.
    while (!fits(word)) {
      let cut = word.length - 1;
      while (cut > 1 && !fits(word.slice(0, cut))) cut--;
      for (let k = cut; k > Math.max(1, (cut * 2) / 3); k--) {
        const a = word[k - 1]!;
        const b = word[k]!;
        if ((a >= 'a' && a <= 'z' && b >= 'A' && b <= 'Z') || '-_.:/'.includes(a)) {
          cut = k;
          break;
        }
      }
      lines.push(word.slice(0, cut));
      word = word.slice(cut);
      if (lines.length >= maxLines) break;
    }
    line = word;
    if (lines.length >= maxLines) break;
  }
  if (line !== '') lines.push(line);
  if (lines.length > maxLines || (lines.length === maxLines && lines.join(' ').length < normal.length)) {
    const kept = lines.slice(0, maxLines);
    let last = kept[maxLines - 1]!;
    while (last.length > 0 && !fits(`${last}…`)) last = last.slice(0, -1);
    kept[maxLines - 1] = `${last}…`;
    return kept;
  }
  return lines;
}

/** One line no wider than `maxWidth`, ending in an ellipsis when cut. */
export function truncateText(text: string, maxWidth: number, size: number, bold = false): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (textWidth(line, size, bold) <= maxWidth) return line;
  let end = line.length;
  while (end > 0 && textWidth(`${line.slice(0, end)}…`, size, bold) > maxWidth) end--;
  return `${line.slice(0, end)}…`;
}
