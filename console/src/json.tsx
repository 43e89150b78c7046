/** JSON display: pretty-printing and a small syntax highlighter (tokens → spans, no innerHTML). */
import type { JSX } from 'preact';

const TOKEN = /("(?:[^"\\]|\\.)*")(\s*:)?|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|(true|false|null)|([{}[\],])/g;

export function highlight(text: string): (JSX.Element | string)[] {
  const out: (JSX.Element | string)[] = [];
  let last = 0;
  let key = 0;
  for (const m of text.matchAll(TOKEN)) {
    const at = m.index;
    if (at > last) out.push(text.slice(last, at));
    if (m[1] !== undefined) {
      out.push(
        <span key={key++} class={m[2] !== undefined ? 'j-key' : 'j-str'}>
          {m[1]}
        </span>,
      );
      if (m[2] !== undefined) out.push(m[2]);
    } else if (m[3] !== undefined)
      out.push(
        <span key={key++} class="j-num">
          {m[3]}
        </span>,
      );
    else if (m[4] !== undefined)
      out.push(
        <span key={key++} class="j-lit">
          {m[4]}
        </span>,
      );
    else
      out.push(
        <span key={key++} class="j-punct">
          {m[5]}
        </span>,
      );
    last = at + m[0].length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** JSON text re-indented; text that is not JSON is returned as is. */
export function pretty(text: string | undefined): string {
  if (text === undefined) return '';
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

/** Highlighting a huge payload would freeze the page: past this size it is shown plain. */
const MAX_HIGHLIGHT = 200_000;

export function JsonView({ text, label }: { text: string | undefined; label?: string }) {
  const p = pretty(text);
  return (
    <pre class="json" tabIndex={0} aria-label={label}>
      {p.length > MAX_HIGHLIGHT ? p : highlight(p)}
    </pre>
  );
}
