"""The run engine: every plan and apply passes here (see docs/tests.md, Layout)."""
