/**
 * Kandji hands out `next` links as full URLs. The token must only ever travel to the configured origin, so a link
 * is reduced to its path and query after checking its origin and path; anything else is refused.
 */
import { RemoteError } from '../remote-errors';

export function toSameOriginPath(link: string, baseUrl: string, expectedPath: string): string {
  let url: URL;
  try {
    url = new URL(link, baseUrl);
  } catch {
    throw new RemoteError(
      'kandji',
      'unsafe_link',
      `Kandji returned a next link that is not a URL: ${JSON.stringify(link.slice(0, 200))}`,
    );
  }
  const base = new URL(baseUrl);
  if (url.origin !== base.origin) {
    throw new RemoteError(
      'kandji',
      'unsafe_link',
      `refused Kandji next link to ${url.origin}: only ${base.origin} receives the API token`,
    );
  }
  if (url.pathname !== expectedPath) {
    throw new RemoteError(
      'kandji',
      'unsafe_link',
      `refused Kandji next link to ${url.pathname}: expected ${expectedPath}`,
    );
  }
  return `${url.pathname}${url.search}`;
}
