/** One line for a toast: an Error's message, or whatever was thrown, as text. */
export function errorText(caught: unknown): string {
  return caught instanceof Error ? caught.message : String(caught);
}
