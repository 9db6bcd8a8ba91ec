/** A URL as it may be shown back: without the `user:password@` it may carry (they are kept, never listed). */
export function urlWithoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.href;
  } catch {
    return url;
  }
}
