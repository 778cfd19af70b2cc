/** The template picker: groups on the left, template cards on the right. */
import { useState } from "react";

import { TEMPLATE_GROUPS, TEMPLATES } from "./catalog";
import type { LabelingTemplate, TemplateGroup } from "./catalog";
import { TemplateIcon } from "./TemplateIcon";

export function TemplateGallery({
  selectedId,
  onSelect,
}: {
  selectedId: string | null;
  onSelect: (template: LabelingTemplate) => void;
}) {
  const selectedGroup = TEMPLATES.find((template) => template.id === selectedId)?.group;
  const [group, setGroup] = useState<TemplateGroup | "All">(selectedGroup ?? "All");
  const shown = group === "All" ? TEMPLATES : TEMPLATES.filter((template) => template.group === group);

  return (
    <div className="template-layout">
      <div className="template-groups" role="group" aria-label="Template groups">
        {(["All", ...TEMPLATE_GROUPS] as const).map((name) => (
          <button
            key={name}
            type="button"
            className="template-group"
            aria-pressed={group === name}
            onClick={() => setGroup(name)}
          >
            {name}
          </button>
        ))}
      </div>
      <div className="template-grid" role="list" aria-label="Templates">
        {shown.map((template) => (
          <div role="listitem" key={template.id} style={{ display: "flex" }}>
            <button
              type="button"
              className="template-card"
              style={{ flex: 1 }}
              aria-pressed={template.id === selectedId}
              onClick={() => onSelect(template)}
            >
              <span className="template-card-icon">
                <TemplateIcon id={template.id} />
              </span>
              <span className="template-card-title">{template.title}</span>
              <span className="template-card-text">{template.description}</span>
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}
