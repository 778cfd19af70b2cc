/** A row of tabs (ARIA tablist); the caller renders the active panel. */
import type { ReactNode } from "react";

export interface TabItem {
  id: string;
  label: ReactNode;
}

export interface TabsProps {
  tabs: TabItem[];
  active: string;
  onChange: (id: string) => void;
  label?: string;
  /** Extra content at the end of the tab row (for example an "add" button). */
  trailing?: ReactNode;
  /** Tab element ids are `${idPrefix}-${tab.id}`, for a panel's aria-labelledby. */
  idPrefix?: string;
}

export function Tabs({ tabs, active, onChange, label, trailing, idPrefix = "tab" }: TabsProps) {
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tabs-list">
        {tabs.map((tab) => (
          <button
            key={tab.id}
            type="button"
            role="tab"
            id={`${idPrefix}-${tab.id}`}
            aria-selected={tab.id === active}
            tabIndex={tab.id === active ? 0 : -1}
            className={`tab${tab.id === active ? " tab-active" : ""}`}
            onClick={() => onChange(tab.id)}
            onKeyDown={(event) => {
              if (event.key !== "ArrowRight" && event.key !== "ArrowLeft") return;
              const index = tabs.findIndex((t) => t.id === active);
              const step = event.key === "ArrowRight" ? 1 : -1;
              const next = tabs[(index + step + tabs.length) % tabs.length];
              if (!next) return;
              onChange(next.id);
              document.getElementById(`${idPrefix}-${next.id}`)?.focus();
            }}
          >
            {tab.label}
          </button>
        ))}
      </div>
      {trailing && <div className="tabs-trailing">{trailing}</div>}
    </div>
  );
}
