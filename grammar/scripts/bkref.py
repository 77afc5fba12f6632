"""A small re-statement of BuildKit's line rules (frontend/dockerfile/parser)
used to check instruction extents.  Returns (start_row, end_row, keyword)
for every instruction, 0-based rows."""
import json
import re

SPACES = ' \t\n\v\f\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000'
RE_DIRECTIVE = re.compile(r'^#[ \t\n\f\r]*([a-zA-Z][a-zA-Z0-9]*)[ \t\n\f\r]*=[ \t\n\f\r]*(.+?)[ \t\n\f\r]*$')
RE_HEREDOC = re.compile(r'^(\d*)<<(-?)[ \t\n\f\r]*([^<]*)$')


def lstrip_u(s):
    return s.lstrip(SPACES)


def is_comment(s):
    s = lstrip_u(s)
    return s.startswith('#')


def shell_words(line):
    """Approximation of shell.Lex.ProcessWords with RawQuotes/RawEscapes."""
    words, cur, inword, i, n = [], '', False, 0, len(line)
    while i < n:
        c = line[i]
        if c in ' \t\r\n':
            if inword:
                words.append(cur)
            cur, inword = '', False
            i += 1
            continue
        inword = True
        if c == '\\':
            cur += line[i:i + 2]
            i += 2
            continue
        if c in '\'"':
            j = i + 1
            while j < n and line[j] != c:
                if c == '"' and line[j] == '\\':
                    j += 1
                j += 1
            cur += line[i:j + 1]
            i = j + 1
            continue
        if c == '<' and line[i:i + 2] == '<<':
            cur += '<<'
            i += 2
            while i < n and line[i] in ' \t':
                cur += line[i]
                i += 1
            continue
        cur += c
        i += 1
    if inword:
        words.append(cur)
    return words


def unquote_word(w):
    out, i, n = '', 0, len(w)
    while i < n:
        c = w[i]
        if c == '\\' and i + 1 < n:
            out += w[i + 1]
            i += 2
        elif c == "'":
            j = w.find("'", i + 1)
            if j < 0:
                return None
            out += w[i + 1:j]
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n and w[j] != '"':
                if w[j] == '\\' and j + 1 < n and w[j + 1] in '"\\$`':
                    out += w[j + 1]
                    j += 2
                    continue
                out += w[j]
                j += 1
            if j >= n:
                return None
            i = j + 1
        else:
            out += c
            i += 1
    return out


def heredocs_of(line):
    docs = []
    for w in shell_words(line):
        m = RE_HEREDOC.match(w)
        if not m or not m.group(3):
            continue
        rest = m.group(3)
        if any(ch in ' \t' for ch in unquote_word_raw_spaces(rest)):
            continue
        name = unquote_word(rest)
        if name is None or name == '':
            continue
        docs.append((name, m.group(2) == '-'))
    return docs


def unquote_word_raw_spaces(rest):
    # unquoted blanks would split the rest into several words
    out, q = '', None
    for ch in rest:
        if q:
            if ch == q:
                q = None
            continue
        if ch in '\'"':
            q = ch
            continue
        out += ch
    return out


def split_flags(args):
    """extractBuilderFlags: returns the rest after --flags."""
    i, n = 0, len(args)
    while True:
        while i < n and args[i] in SPACES:
            i += 1
        if args[i:i + 2] != '--':
            return args[i:]
        j = i
        q = None
        while j < n and (q or args[j] not in SPACES):
            if q:
                if args[j] == q:
                    q = None
            elif args[j] in '\'"':
                q = args[j]
            elif args[j] == '\\':
                j += 1
            j += 1
        if args[i:j] == '--':
            return args[j:]
        i = j


def is_json_form(rest):
    rest = lstrip_u(rest)
    if not rest.startswith('['):
        return False
    try:
        v, _ = json.JSONDecoder(strict=True).raw_decode(rest)
    except Exception:
        return False
    return isinstance(v, list)


def instructions(data):
    text = data.decode('utf-8', errors='surrogateescape')
    if text.startswith('\ufeff'):
        text = text[1:]
    lines = text.split('\n')
    if text.endswith('\n'):
        lines = lines[:-1]
    n = len(lines)
    st = {'esc': '\\', 'done': False}

    def directive(line):
        if st['done']:
            return
        m = RE_DIRECTIVE.match(line)
        if not m:
            st['done'] = True
            return
        k = m.group(1).lower()
        if k not in ('syntax', 'escape', 'check'):
            st['done'] = True
            return
        if k == 'escape' and m.group(2) in ('`', '\\'):
            st['esc'] = m.group(2)

    def trim_cont(line):
        e = re.escape(st['esc'])
        r = re.compile('([^' + e + '])' + e + '[ \t]*$|^' + e + '[ \t]*$')
        m = r.search(line)
        if m:
            return line[:m.start()] + (m.group(1) or ''), False
        return line, True

    out = []
    i = 0
    while i < n:
        raw = lines[i]
        i += 1
        start = i - 1
        line = lstrip_u(raw.rstrip('\r\n'))
        directive(line)
        if is_comment(line):
            line = ''
        line, end = trim_cont(line)
        if end and line == '':
            continue
        while not end and i < n:
            raw = lines[i]
            i += 1
            t = raw.rstrip('\r\n')
            directive(t)
            if is_comment(raw):
                continue
            if lstrip_u(t) == '':
                continue
            t, end = trim_cont(t)
            line += t
        parts = re.split(r'[\t\v\f\r ]+', line.strip(SPACES), maxsplit=1)
        kw = parts[0].upper()
        target_kw, rest = kw, (parts[1] if len(parts) > 1 else '')
        rest = split_flags(rest)
        if kw == 'ONBUILD' and rest.strip():
            p2 = re.split(r'[\t\v\f\r ]+', rest.strip(SPACES), maxsplit=1)
            target_kw = p2[0].upper()
            rest = split_flags(p2[1] if len(p2) > 1 else '')
        if target_kw in ('RUN', 'COPY', 'ADD') and '<<' in line and not is_json_form(rest):
            for name, chomp in heredocs_of(line):
                while i < n:
                    t = lines[i].rstrip('\r\n')
                    i += 1
                    if chomp:
                        t = t.lstrip('\t')
                    if t == name:
                        break
        out.append((start, i - 1, kw))
    return out


if __name__ == '__main__':
    import sys
    for p in sys.argv[1:]:
        for s, e, k in instructions(open(p, 'rb').read()):
            print(s, e, k)
