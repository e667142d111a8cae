#!/usr/bin/env python3
"""Turn the SQL examples of README.md into one psql script, run by
test/shell/02_readme.sh on a fresh database.

Conventions of README.md (see its "Getting started"):

- Every ```sql block runs, in the order of the README, in one psql session
  (psql variables set with \\gset carry over).
- Each block starts with a line "-- as ROLE" (a comment may follow:
  "-- as lishui_police: register a table"), and may switch role again at
  any line of that form: the statements below it run as that role (SET
  SESSION AUTHORIZATION, from the superuser the script connects as).
- A statement followed by a line "-- ERROR:  message" must fail with
  exactly that message; any other error fails the test.
- A block preceded by the line "<!-- readme-test: skip REASON -->" is not
  run; keep these rare, each with its reason.

Usage: readme_sql.py README.md > script.sql; prints the number of blocks
run and skipped on stderr.
"""
import re
import sys

MARKER = re.compile(r'^--\s+as\s+([A-Za-z_][A-Za-z0-9_]*)\s*(?:[:(,].*)?$')
SKIP = re.compile(r'^<!--\s*readme-test:\s*skip\b(.*)-->\s*$')
ERROR = re.compile(r'^--\s+ERROR:\s+(.*)$')


def blocks(lines):
    """(first line number, lines, skipped) of every ```sql block."""
    i = 0
    while i < len(lines):
        if lines[i].strip() == '```sql':
            skip = i > 0 and SKIP.match(lines[i - 1].strip()) is not None
            start = i + 1
            j = start
            while j < len(lines) and lines[j].strip() != '```':
                j += 1
            if j == len(lines):
                sys.exit('README.md line %d: a ```sql block is never closed' % (start))
            yield start + 1, lines[start:j], skip
            i = j + 1
        else:
            i += 1


def code_part(line):
    """The line without a trailing -- comment (outside quotes)."""
    quote = False
    for k, c in enumerate(line):
        if c == "'":
            quote = not quote
        elif c == '-' and not quote and line[k:k + 2] == '--':
            return line[:k]
    return line


def literal(s):
    return "'" + s.replace("'", "''") + "'"


def main():
    lines = open(sys.argv[1], encoding='utf-8').read().split('\n')
    out = ['\\set ON_ERROR_STOP 1', '\\set VERBOSITY default']
    run = skipped = 0
    for first, body, skip in blocks(lines):
        if skip:
            skipped += 1
            continue
        run += 1
        head = next((l for l in body if l.strip()), '')
        if not MARKER.match(head.strip()):
            sys.exit('README.md line %d: a ```sql block must start with "-- as ROLE" '
                     '(or be marked <!-- readme-test: skip REASON -->)' % first)
        stmt = []
        stmt_line = first
        pending = None          # the statement just ended, waiting for an ERROR line
        for n, line in enumerate(body, start=first):
            s = line.strip()
            m = MARKER.match(s)
            e = ERROR.match(s)
            if e and pending is not None:
                text, at = pending
                pending = None
                out.append('\\set ON_ERROR_STOP 0')
                out.append(text)
                out.append('\\set ON_ERROR_STOP 1')
                out.append("SELECT :'ERROR' = 'true' AND :'LAST_ERROR_MESSAGE' = %s AS readme_failed_as_told \\gset"
                           % literal(e.group(1)))
                out.append('\\if :readme_failed_as_told')
                out.append('\\else')
                out.append("\\echo 'README.md line %d: expected ERROR:  %s'"
                           % (at, e.group(1).replace("'", "\\'")))
                out.append("\\echo '  got:' :'LAST_ERROR_MESSAGE'")
                out.append("SELECT 'README.md line %d did not fail as the README says'::int;" % at)
                out.append('\\endif')
                continue
            if pending is not None and not (s.startswith('--') or s == ''):
                out.append(pending[0])
                pending = None
            if pending is not None and s.startswith('--') and not m:
                continue
            if pending is not None and m:
                out.append(pending[0])
                pending = None
            if m and not stmt:
                out.append('\\echo README.md line %d: as %s' % (n, m.group(1)))
                out.append('RESET ROLE;')
                out.append('RESET SESSION AUTHORIZATION;')
                out.append('SET SESSION AUTHORIZATION %s;' % m.group(1))
                continue
            if not stmt and (s == '' or s.startswith('--')):
                continue
            if not stmt:
                stmt_line = n
            stmt.append(line)
            code = code_part(line).rstrip()
            if code.endswith(';') or code.endswith('\\gset') or (code.startswith('\\') and len(stmt) == 1):
                pending = ('\n'.join(stmt), stmt_line)
                stmt = []
        if pending is not None:
            out.append(pending[0])
        if stmt:
            sys.exit('README.md line %d: statement without its ";"' % stmt_line)
    out.append('RESET ROLE;')
    out.append('RESET SESSION AUTHORIZATION;')
    print('\n'.join(out))
    print('README.md: %d SQL blocks to run, %d skipped' % (run, skipped), file=sys.stderr)


if __name__ == '__main__':
    main()
