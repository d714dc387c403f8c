#!/usr/bin/env python3
"""Check from a tool's output that it really analysed every file of a history.

    python3 bench/check_output.py TOOL MIGRATIONS EXIT_STATUS OUTPUT_FILE

TOOL: migrate-safe-rewrite (or migrate-safe), migrate-safe-lint, squawk, eugene.

Prints one line: `ok: ...` when the output shows every migration was read, else `INVALID: ...`
(the tool's time is then not comparable). Exit status is always 0.
"""

import json
import os
import re
import sys

ANSI = re.compile(r"\x1b\[[0-9;]*m|\x1b\]8;[^\x1b]*\x1b\\")


def migrate_safe(count, rc, text):
    if rc != 0:
        return "INVALID: exit status %d (expected 0)" % rc
    header = re.search(r"^Migrations directory: .*, (\d+) migrations$", text, re.M)
    if not header:
        return "INVALID: no 'Migrations directory' header"
    seen = int(header.group(1))
    # One plan line per migration (src/report/text.rs): needs a rewrite, already safe, or nothing to
    # rewrite with hazards left for the reader (no automatic fix).
    plans = re.findall(r"^\S.*: (needs a rewrite|already safe, nothing to rewrite"
                       r"|nothing to rewrite \(hazards without an automatic fix below\))$", text, re.M)
    rewrite = sum(1 for p in plans if p == "needs a rewrite")
    left = sum(1 for p in plans if p.startswith("nothing to rewrite ("))
    summary = re.search(r"^Dry run: would rewrite (\d+) migrations? and add (\d+) new", text, re.M)
    folders = summary.group(2) if summary else "0"
    if seen != count or len(plans) != count:
        return "INVALID: read %d, planned %d of %d migrations" % (seen, len(plans), count)
    return "ok: planned %d/%d migrations; %d need a rewrite (%s new folders), %d with hazards left" % (
        len(plans), count, rewrite, folders, left)


def migrate_safe_lint(count, rc, text):
    # `lint --all --format json`: exit 1 is "findings at or above --fail-on", 2 a usage or input error.
    if rc not in (0, 1):
        return "INVALID: exit status %d (expected 0 or 1)" % rc
    try:
        doc = json.loads(text)
    except ValueError as e:
        return "INVALID: output is not one JSON document (%s)" % e
    linted = doc.get("migrations_linted")
    if linted != count:
        return "INVALID: linted %s of %d migrations" % (linted, count)
    if bool(doc.get("failed")) != (rc == 1):
        return "INVALID: exit status %d but failed=%s" % (rc, doc.get("failed"))
    s = doc.get("summary", {})
    diags = doc.get("diagnostics", [])
    unanalysed = doc.get("by_rule", {}).get("unanalysed", 0)
    return "ok: linted %d/%d migrations; %d findings (error %d, warning %d, note %d) in %d migrations%s" % (
        linted, count, len(diags), s.get("error", 0), s.get("warning", 0), s.get("note", 0),
        len({d.get("migration") for d in diags}),
        "; unanalysed statements: %d" % unanalysed if unanalysed else "")


def squawk(count, rc, text):
    m = re.search(r"Found (\d+) issues? in (\d+) files? \(checked (\d+) source files?\)", text)
    if not m:
        if re.search(r"No issues found", text):
            m2 = re.search(r"checked (\d+) source files?", text)
            checked = int(m2.group(1)) if m2 else -1
            if checked == count:
                return "ok: checked %d/%d files, no issues" % (checked, count)
        return "INVALID: no squawk summary line (exit %d)" % rc
    issues, files, checked = map(int, m.groups())
    syntax = len(re.findall(r"syntax-error", text))
    if checked != count:
        return "INVALID: checked %d of %d files" % (checked, count)
    return "ok: checked %d/%d files; %d issues in %d files%s" % (
        checked, count, issues, files, ", %d syntax errors" % syntax if syntax else "")


def eugene(count, rc, text):
    # eugene stops at the first script it cannot lint ("Error checking <script>: ...").
    if "Error checking" in text:
        first = next((l for l in text.splitlines() if "Error checking" in l), "")
        return "INVALID: eugene stopped: %s" % first.strip()[:160]
    finished = rc == 0 or (rc == 1 and "Some checks failed" in text)
    if not finished:
        return "INVALID: exit status %d without eugene's 'Some checks failed'" % rc
    # Plain output: one line per hint, `path/NNNN_name.sql:LINE CODE message url`.
    hints = re.findall(r"^(\S+\.sql):\d+ ([EW]\d+) ", text, re.M)
    scripts = {path for path, _ in hints}
    last = max((int(re.match(r"(\d+)_", os.path.basename(p)).group(1)) for p in scripts), default=0)
    return "ok: ran to the end; %d hints in %d/%d scripts (last with hints: #%d)" % (
        len(hints), len(scripts), count, last)


def main():
    tool, count, rc, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    text = ANSI.sub("", open(path, encoding="utf-8", errors="replace").read())
    check = {"migrate-safe": migrate_safe, "migrate-safe-rewrite": migrate_safe,
             "migrate-safe-lint": migrate_safe_lint, "squawk": squawk, "eugene": eugene}[tool]
    print(check(count, rc, text))


if __name__ == "__main__":
    main()
