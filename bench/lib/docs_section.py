"""Writes one benchmark's section into docs/benchmarks.md: the section that starts with
`marker` (a "## ..." heading) is replaced up to the next "## " heading, or appended."""


def write_section(doc, marker, section):
    try:
        text = open(doc).read()
    except FileNotFoundError:
        text = "# Benchmarks\n\nEach benchmark measures spindle against its peers in the same run and reports ratios; none is a pass/fail test.\n"
    if marker in text:
        start = text.index(marker)
        end = text.find("\n## ", start + 1)
        text = text[:start] + section + ("" if end < 0 else text[end + 1:])
    else:
        text = text.rstrip() + "\n\n" + section
    open(doc, "w").write(text)
    print(f"wrote {doc}")
