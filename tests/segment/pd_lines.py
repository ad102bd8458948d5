"""A few People's Daily-format lines (word/tag, two spaces) the tiny training tests repeat."""

PD_LINES = [
    "迈向/v  充满/v  希望/n  的/u  新/a  世纪/n",
    "中共中央/nt  总书记/n  、/w  国家/n  主席/n",
    "我们/r  的/u  希望/n  在/p  新/a  世纪/n  。/w",
    "国家/n  充满/v  希望/n  。/w",
]
