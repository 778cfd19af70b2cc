"""Label Studio's tag vocabulary: objects hold data, controls produce results."""

OBJECT_TAGS = frozenset(
    {
        "Image",
        "Text",
        "HyperText",
        "Audio",
        "AudioPlus",
        "Video",
        "Paragraphs",
        "Table",
        "TimeSeries",
        "Chat",
        "Pdf",
        "Markdown",
        "List",
        "MultiChannel",
    }
)

#: Controls whose results carry labels chosen from child `<Label>`/`<Choice>` tags.
LABELED_CONTROL_TAGS = frozenset(
    {
        "Choices",
        "Labels",
        "RectangleLabels",
        "PolygonLabels",
        "KeyPointLabels",
        "BrushLabels",
        "EllipseLabels",
        "HyperTextLabels",
        "ParagraphLabels",
        "TimeSeriesLabels",
        "BitmaskLabels",
        "TimelineLabels",
        "VectorLabels",
        "Taxonomy",
    }
)

CONTROL_TAGS = LABELED_CONTROL_TAGS | frozenset(
    {
        "Rectangle",
        "Polygon",
        "KeyPoint",
        "Brush",
        "Ellipse",
        "VideoRectangle",
        "TextArea",
        "Rating",
        "Number",
        "DateTime",
        "Pairwise",
        "Ranker",
        "MagicWand",
        "Bitmask",
        "Vector",
    }
)

#: Layout, styling and the children of controls: no name or data needed.
VISUAL_TAGS = frozenset(
    {
        "View",
        "Header",
        "Style",
        "Filter",
        "Label",
        "Choice",
        "Relation",
        "Relations",
        "Collapse",
        "Panel",
        "Shortcut",
        "Repeater",
        "Channel",
        "Bucket",
        "Item",
        "Path",
        "Char",
        "TimeSeriesChannel",
    }
)

#: Plain HTML Label Studio lets a config use for layout.
HTML_TAGS = frozenset(
    {
        "a",
        "b",
        "br",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "pre",
        "span",
        "strong",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
        "code",
        "small",
        "sub",
        "sup",
        "label",
        "style",
    }
)

#: Controls that need no `toName`. `<Relations>` (no name, no target) is a visual tag instead.
CONTROLS_WITHOUT_TO_NAME: frozenset[str] = frozenset()

#: The value key each control's results use, e.g. `{"rectanglelabels": ["Car"]}`.
RESULT_VALUE_KEY = {tag: tag.lower() for tag in CONTROL_TAGS}

#: Per object tag, the Python types task data may hold for it.
DATA_TYPES: dict[str, tuple[type, ...]] = {
    "Text": (str, int, float, list),
    "Image": (str, list),
    "HyperText": (str,),
    "Paragraphs": (list, str),
    "Chat": (list, str),
    "Table": (dict, list, str),
    "TimeSeries": (dict, list, str),
    "Audio": (str,),
    "AudioPlus": (str,),
    "Video": (str,),
}
