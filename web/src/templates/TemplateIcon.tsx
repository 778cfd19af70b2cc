/** Line icons for the template cards, drawn inline so they never depend on an emoji font. */
import type { ReactNode } from "react";

const PATHS: Record<string, ReactNode> = {
  "image-classification": (
    <>
      <rect x="3" y="4" width="18" height="16" rx="2" />
      <circle cx="9" cy="9" r="1.8" />
      <path d="M3 17l5-5 4 4 3-3 6 6" />
    </>
  ),
  "object-detection": (
    <>
      <rect x="3" y="3" width="18" height="18" rx="1" strokeDasharray="3 2" />
      <rect x="7" y="8" width="10" height="8" rx="1" />
    </>
  ),
  "polygon-segmentation": (
    <>
      <path d="M12 3l8 6-3 10H7L4 9z" />
      <circle cx="12" cy="3" r="1.3" fill="currentColor" />
      <circle cx="20" cy="9" r="1.3" fill="currentColor" />
      <circle cx="17" cy="19" r="1.3" fill="currentColor" />
      <circle cx="7" cy="19" r="1.3" fill="currentColor" />
      <circle cx="4" cy="9" r="1.3" fill="currentColor" />
    </>
  ),
  keypoints: (
    <>
      <circle cx="6" cy="7" r="1.8" fill="currentColor" />
      <circle cx="17" cy="5" r="1.8" fill="currentColor" />
      <circle cx="12" cy="13" r="1.8" fill="currentColor" />
      <circle cx="7" cy="19" r="1.8" fill="currentColor" />
      <circle cx="18" cy="18" r="1.8" fill="currentColor" />
    </>
  ),
  "text-classification": (
    <>
      <path d="M4 6h12M4 10h16M4 14h10" />
      <path d="M14 17h6v4h-6z" />
    </>
  ),
  "named-entity-recognition": (
    <>
      <path d="M3 7h4M17 7h4M3 12h18M3 17h10" />
      <rect x="8" y="4.5" width="8" height="5" rx="1" fill="currentColor" fillOpacity="0.25" />
    </>
  ),
  "html-classification": <path d="M8 7l-5 5 5 5M16 7l5 5-5 5M14 4l-4 16" />,
  "html-ner": (
    <>
      <path d="M7 7l-4 5 4 5M17 7l4 5-4 5" />
      <rect x="8.5" y="9.5" width="7" height="5" rx="1" fill="currentColor" fillOpacity="0.25" />
    </>
  ),
  "audio-transcription": (
    <>
      <rect x="9" y="3" width="6" height="11" rx="3" />
      <path d="M5 11a7 7 0 0014 0M12 18v3M9 21h6" />
    </>
  ),
  "audio-segmentation": (
    <>
      <rect x="9" y="3" width="7" height="18" fill="currentColor" fillOpacity="0.18" stroke="none" />
      <path d="M3 12h1M6 9v6M9 6v12M12 8v8M15 4v16M18 9v6M21 12h0" />
    </>
  ),
  "time-series": (
    <>
      <path d="M3 3v18h18" />
      <path d="M6 15l4-5 3 3 4-6 3 4" />
    </>
  ),
  custom: <path d="M4 20h4L19 9l-4-4L4 16zM13 7l4 4" />,
};

export function TemplateIcon({ id }: { id: string }) {
  return (
    <svg
      viewBox="0 0 24 24"
      width="24"
      height="24"
      fill="none"
      stroke="currentColor"
      strokeWidth="1.6"
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
    >
      {PATHS[id] ?? PATHS.custom}
    </svg>
  );
}
