/**
 * Loads the Label Studio editor (npm `@heartexlabs/label-studio@1.4.0`, a UMD bundle with
 * its own React) once, as a plain script, and resolves to its global constructor.
 * `scripts/copy-editor.mjs` puts the bundle under /vendor/label-studio/ at build time.
 */

/**
 * One of the editor's MobX objects (its store, an annotation): the bundle ships no types and
 * their shapes are the editor's own, used through a few members. The one untyped boundary.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the editor bundle has no types
export type EditorObject = any;

export interface LabelStudioInstance {
  destroy(): void;
  // The editor's MobX store; its shape is the editor's own.
  store?: EditorObject;
}

export type LabelStudioConstructor = new (
  root: HTMLElement | string,
  options: Record<string, unknown>,
) => LabelStudioInstance;

declare global {
  interface Window {
    LabelStudio?: LabelStudioConstructor;
  }
}

const BASE = `${import.meta.env.BASE_URL}vendor/label-studio`;
let loading: Promise<LabelStudioConstructor> | null = null;

function addStylesheet(href: string): void {
  if (document.querySelector(`link[href="${href}"]`)) return;
  const link = document.createElement("link");
  link.rel = "stylesheet";
  link.href = href;
  document.head.appendChild(link);
}

export function loadLabelStudio(): Promise<LabelStudioConstructor> {
  if (window.LabelStudio) return Promise.resolve(window.LabelStudio);
  if (loading) return loading;
  addStylesheet(`${BASE}/main.css`);
  loading = new Promise<LabelStudioConstructor>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = `${BASE}/main.js`;
    script.async = true;
    script.onload = () =>
      window.LabelStudio
        ? resolve(window.LabelStudio)
        : reject(new Error("the labeling editor loaded but defined no LabelStudio global"));
    script.onerror = () => {
      loading = null;
      reject(new Error("the labeling editor failed to load"));
    };
    document.body.appendChild(script);
  });
  return loading;
}
