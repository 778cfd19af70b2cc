/**
 * The labeling-config template gallery: one starting configuration per common task, in
 * Label Studio's config language. Picking one fills the config editor; users then edit it.
 */

export type TemplateGroup = "Computer vision" | "Natural language" | "Audio" | "Time series" | "Custom";

export interface LabelingTemplate {
  id: string;
  group: TemplateGroup;
  title: string;
  description: string;
  config: string;
}

export const TEMPLATE_GROUPS: TemplateGroup[] = [
  "Computer vision",
  "Natural language",
  "Audio",
  "Time series",
  "Custom",
];

export const TEMPLATES: LabelingTemplate[] = [
  {
    id: "image-classification",
    group: "Computer vision",
    title: "Image classification",
    description: "Pick one class for the whole image.",
    config: `<View>
  <Image name="image" value="$image" zoom="true"/>
  <Choices name="choice" toName="image" choice="single" showInLine="true">
    <Choice value="Indoor"/>
    <Choice value="Outdoor"/>
    <Choice value="Unclear"/>
  </Choices>
</View>`,
  },
  {
    id: "object-detection",
    group: "Computer vision",
    title: "Object detection with bounding boxes",
    description: "Draw labelled rectangles around objects.",
    config: `<View>
  <Image name="image" value="$image" zoom="true" zoomControl="true"/>
  <RectangleLabels name="label" toName="image">
    <Label value="Car" background="#2457c5"/>
    <Label value="House" background="#c2410c"/>
    <Label value="Tree" background="#15803d"/>
  </RectangleLabels>
</View>`,
  },
  {
    id: "polygon-segmentation",
    group: "Computer vision",
    title: "Semantic segmentation with polygons",
    description: "Outline regions point by point.",
    config: `<View>
  <Header value="Click to add points; close the shape on the first point"/>
  <Image name="image" value="$image" zoom="true" zoomControl="true"/>
  <PolygonLabels name="label" toName="image" strokeWidth="3" pointSize="small" opacity="0.6">
    <Label value="Building" background="#c2410c"/>
    <Label value="Road" background="#6b7280"/>
    <Label value="Vegetation" background="#15803d"/>
  </PolygonLabels>
</View>`,
  },
  {
    id: "keypoints",
    group: "Computer vision",
    title: "Keypoint labeling",
    description: "Mark labelled points on an image.",
    config: `<View>
  <Image name="image" value="$image" zoom="true" zoomControl="true"/>
  <KeyPointLabels name="keypoint" toName="image" strokeWidth="2" smart="false">
    <Label value="Corner" background="#dc2626"/>
    <Label value="Wheel" background="#2457c5"/>
  </KeyPointLabels>
</View>`,
  },
  {
    id: "text-classification",
    group: "Natural language",
    title: "Text classification",
    description: "Sentiment or topic: one choice per text.",
    config: `<View>
  <Text name="text" value="$text"/>
  <Header value="What is the sentiment of this text?"/>
  <Choices name="sentiment" toName="text" choice="single" showInLine="true">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
    <Choice value="Neutral"/>
  </Choices>
</View>`,
  },
  {
    id: "named-entity-recognition",
    group: "Natural language",
    title: "Named entity recognition",
    description: "Select spans of text and label them.",
    config: `<View>
  <Labels name="label" toName="text">
    <Label value="Person" background="#dc2626"/>
    <Label value="Organization" background="#ea580c"/>
    <Label value="Location" background="#2457c5"/>
    <Label value="Date" background="#7c3aed"/>
  </Labels>
  <Text name="text" value="$text" granularity="word"/>
</View>`,
  },
  {
    id: "html-classification",
    group: "Natural language",
    title: "HTML classification",
    description: "Classify rendered HTML documents.",
    config: `<View>
  <HyperText name="html" value="$html"/>
  <Choices name="category" toName="html" choice="multiple" showInLine="true">
    <Choice value="News"/>
    <Choice value="Opinion"/>
    <Choice value="Advertisement"/>
  </Choices>
</View>`,
  },
  {
    id: "html-ner",
    group: "Natural language",
    title: "HTML entity tagging",
    description: "Label spans inside rendered HTML.",
    config: `<View>
  <Labels name="label" toName="html">
    <Label value="Person" background="#dc2626"/>
    <Label value="Organization" background="#ea580c"/>
    <Label value="Product" background="#15803d"/>
  </Labels>
  <HyperText name="html" value="$html"/>
</View>`,
  },
  {
    id: "audio-transcription",
    group: "Audio",
    title: "Audio transcription",
    description: "Listen and type what is said.",
    config: `<View>
  <Audio name="audio" value="$audio"/>
  <Header value="Transcription"/>
  <TextArea name="transcription" toName="audio" rows="4" editable="true" maxSubmissions="1"/>
</View>`,
  },
  {
    id: "audio-segmentation",
    group: "Audio",
    title: "Audio segmentation",
    description: "Mark labelled time regions in a recording.",
    config: `<View>
  <Labels name="label" toName="audio">
    <Label value="Speech" background="#2457c5"/>
    <Label value="Music" background="#15803d"/>
    <Label value="Noise" background="#dc2626"/>
  </Labels>
  <Audio name="audio" value="$audio"/>
</View>`,
  },
  {
    id: "time-series",
    group: "Time series",
    title: "Time series segmentation",
    description: "Label time ranges across channels from a CSV.",
    config: `<View>
  <TimeSeriesLabels name="label" toName="ts">
    <Label value="Run" background="#2457c5"/>
    <Label value="Walk" background="#15803d"/>
  </TimeSeriesLabels>
  <TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time" sep=",">
    <Channel column="velocity" legend="Velocity" strokeColor="#2457c5"/>
    <Channel column="acceleration" legend="Acceleration" strokeColor="#dc2626"/>
  </TimeSeries>
</View>`,
  },
  {
    id: "custom",
    group: "Custom",
    title: "Custom template",
    description: "Start from a minimal config and write your own.",
    config: `<View>
  <Text name="text" value="$text"/>
  <Choices name="choice" toName="text">
    <Choice value="Yes"/>
    <Choice value="No"/>
  </Choices>
</View>`,
  },
];

export function findTemplate(id: string): LabelingTemplate | undefined {
  return TEMPLATES.find((template) => template.id === id);
}
