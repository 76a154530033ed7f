"""Fast synthesis: lazy provider imports, the benchmark that measures them, and watch mode.

The prebuilt cdktf provider packages import every one of their submodules
(2,212 for AWS) when first imported. ``lazy_providers`` loads only the
submodules a program uses, with jsii type resolution intact and output
byte-identical (a test proves it); ``bench`` measures it against the stock
path and a plain-JSON floor; ``watch`` keeps the providers loaded and
re-synthesizes on every edit.
"""
