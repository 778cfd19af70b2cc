"""The suite's version, and the Label Studio release whose API it speaks."""

LABELOPS_VERSION = "0.1.0"
#: The Label Studio release whose REST contract LabelOps answers (../shared/contract).
LABEL_STUDIO_COMPATIBLE_RELEASE = "1.23.2"
