/** A small progress indicator with an accessible name. */
export function Spinner({ label = "Loading…", size = "normal" }: { label?: string; size?: "normal" | "small" }) {
  return (
    <span className={`spinner-wrap${size === "small" ? " spinner-small" : ""}`} role={label ? "status" : undefined}>
      <span className="spinner" aria-hidden="true" />
      {label && <span className="spinner-label">{label}</span>}
    </span>
  );
}

/** A whole-area loading state for pages and panels. */
export function LoadingBlock({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="loading-block">
      <Spinner label={label} />
    </div>
  );
}
