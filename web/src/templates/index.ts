export { findTemplate, TEMPLATE_GROUPS, TEMPLATES } from "./catalog";
export type { LabelingTemplate, TemplateGroup } from "./catalog";
export { ConfigEditor } from "./ConfigEditor";
export type { ConfigEditorProps, ValidationState } from "./ConfigEditor";
export { ConfigPreview } from "./ConfigPreview";
export { TemplateGallery } from "./TemplateGallery";
export { parseConfig, sampleTaskData } from "./sampleTask";
