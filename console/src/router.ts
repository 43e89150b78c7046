/** A tiny History API router: paths are `/state-machines`, `/state-machines/<arn>`, `/executions/<arn>`, `/activities`. */
import { useEffect, useState } from 'preact/hooks';

export type Route =
  | { page: 'machines' }
  | { page: 'machine'; arn: string }
  | { page: 'execution'; arn: string }
  | { page: 'activities' }
  | { page: 'notFound' };

export function parse(pathname: string): Route {
  const parts = pathname.split('/').filter((p) => p !== '');
  const arg = parts[1] === undefined ? undefined : safeDecode(parts.slice(1).join('/'));
  if (parts.length === 0 || (parts[0] === 'state-machines' && arg === undefined)) return { page: 'machines' };
  if (parts[0] === 'state-machines' && arg) return { page: 'machine', arn: arg };
  if (parts[0] === 'executions' && arg) return { page: 'execution', arn: arg };
  if (parts[0] === 'activities') return { page: 'activities' };
  return { page: 'notFound' };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export const machineHref = (arn: string): string => `/state-machines/${encodeURIComponent(arn)}`;
export const executionHref = (arn: string): string => `/executions/${encodeURIComponent(arn)}`;

export function navigate(href: string): void {
  history.pushState(null, '', href);
  dispatchEvent(new PopStateEvent('popstate'));
  window.scrollTo(0, 0);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parse(location.pathname));
  useEffect(() => {
    const on = () => setRoute(parse(location.pathname));
    addEventListener('popstate', on);
    return () => removeEventListener('popstate', on);
  }, []);
  return route;
}

/** Click handler for same-origin links: client-side navigation unless a modifier key asks for a new tab. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as Element | null)?.closest('a');
  if (!a || a.target || a.origin !== location.origin || e.button !== 0) return;
  if (e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}
