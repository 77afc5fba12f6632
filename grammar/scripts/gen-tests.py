#!/usr/bin/env python3
"""Regenerates test/corpus/*.txt from the cases below: each case's expected
tree is what the grammar produces now, so REVIEW the diff (git diff
test/corpus) before committing.  Usage: scripts/gen-tests.py"""
import os
import re
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TS = os.path.join(ROOT, '..', 'tools', 'tree-sitter')

CASES = {}


def case(group, title, text):
    CASES.setdefault(group, []).append((title, text))


# ---------------------------------------------------------------- directives
G = 'directives'
case(G, 'syntax directive', '# syntax=docker/dockerfile:1\nFROM alpine\n')
case(G, 'escape directive backtick', '# escape=`\nFROM alpine\n')
case(G, 'escape directive backslash', '# escape=\\\nFROM alpine\n')
case(G, 'check directive', '# check=skip=JSONArgsRecommended\nFROM alpine\n')
case(G, 'directive key case-insensitive', '# SYNTAX=docker/dockerfile:1\n# Escape=`\nFROM alpine\n')
case(G, 'directive with spaces around equals', '#  syntax  =  docker/dockerfile:1.4  \nFROM alpine\n')
case(G, 'directive with leading blanks', '   # syntax=x\nFROM alpine\n')
case(G, 'several directives', '# syntax=docker/dockerfile:1\n# escape=\\\n# check=error=true\nFROM alpine\n')
case(G, 'directive after blank line is a comment', '\n# syntax=docker/dockerfile:1\nFROM alpine\n')
case(G, 'directive after comment is a comment', '# hello\n# syntax=docker/dockerfile:1\nFROM alpine\n')
case(G, 'directive after instruction is a comment', 'FROM alpine\n# escape=`\nRUN echo \\\n  hi\n')
case(G, 'unknown directive key ends the run', '# foo=bar\n# syntax=x\nFROM alpine\n')
case(G, 'directive without value is a comment', '# syntax=\nFROM alpine\n')
case(G, 'directive only file', '# syntax=docker/dockerfile:1')
case(G, 'blank line ends directives', '# syntax=a\n\n# escape=`\nRUN a `\n  b\n')

# ---------------------------------------------------------------- comments
G = 'comments'
case(G, 'comment lines', '# one\n# two\nFROM alpine\n')
case(G, 'indented comment', 'FROM alpine\n    # indented\nRUN x\n')
case(G, 'hash inside a line is text', 'RUN echo # not a comment\n')
case(G, 'comment ending with backslash does not continue', '# comment \\\nFROM alpine\n')
case(G, 'comment inside continuation', 'RUN apt-get update \\\n  # install things\n  && apt-get install -y x\n')
case(G, 'several comments inside continuation', 'RUN a \\\n# c1\n# c2\n    b\n')
case(G, 'comment inside ENV continuation', 'ENV A=1 \\\n  # note\n  B=2\n')
case(G, 'empty comment', '#\nFROM alpine\n')
case(G, 'comment with CRLF', '# c\r\nFROM alpine\r\n')

# ---------------------------------------------------------------- continuations
G = 'continuations'
case(G, 'simple continuation', 'RUN a \\\n    b\n')
case(G, 'trailing blanks after backslash', 'RUN a \\   \n    b\n')
case(G, 'trailing tab after backslash', 'RUN a \\\t\n    b\n')
case(G, 'double backslash is not a continuation', 'RUN echo \\\\\nRUN b\n')
case(G, 'triple backslash is not a continuation', 'RUN echo \\\\\\\nRUN b\n')
case(G, 'line with only a backslash continues', 'RUN a \\\n\\\n b\n')
case(G, 'empty lines inside continuation', 'RUN a \\\n\n\n    b\n')
case(G, 'blank-only lines inside continuation', 'RUN a \\\n   \n\t\n    b\n')
case(G, 'continuation at end of file', 'FROM alpine\nRUN a \\')
case(G, 'continuation then EOF after newline', 'RUN a \\\n')
case(G, 'continuation with CRLF', 'RUN a \\\r\n    b\r\nRUN c\r\n')
case(G, 'continuation joins word pieces', 'ENV A=ab\\\ncd\n')
case(G, 'continuation after blank keeps words apart', 'ENV A=ab \\\n    B=cd\n')
case(G, 'continuation in FROM', 'FROM \\\n  alpine \\\n  AS base\n')
case(G, 'continuation in exec form', 'CMD ["a", \\\n     "b"]\n')
case(G, 'continuation in COPY', 'COPY a \\\n     b \\\n     /dst/\n')
case(G, 'many continuations', 'RUN set -eux; \\\n  a; \\\n  b; \\\n  c; \\\n  d\n')
case(G, 'instruction on continued line is an argument', 'RUN echo \\\nRUN b\n')

# ---------------------------------------------------------------- escape
G = 'escape'
case(G, 'backtick continuation', '# escape=`\nRUN a `\n    b\n')
case(G, 'backslash is text with backtick escape', '# escape=`\nRUN dir c:\\\nRUN b\n')
case(G, 'backtick escape in ENV', '# escape=`\nENV A=c:\\x `\n    B=2\n')
case(G, 'double backtick is not a continuation', '# escape=`\nRUN a ``\nRUN b\n')
case(G, 'windows style', '# escape=`\nFROM mcr.microsoft.com/windows/servercore\nSHELL ["powershell", "-Command"]\nRUN Write-Host a; `\n    Write-Host b\n')
case(G, 'escape sequence in value', 'ENV A=a\\ b\n')
case(G, 'escaped dollar', 'ENV A=\\$HOME\n')
case(G, 'escape directive after BOM', '\ufeff# escape=`\nRUN a `\n b\n')

# ---------------------------------------------------------------- file shape
G = 'file'
case(G, 'empty file', '')
case(G, 'blank lines only', '\n\n   \n')
case(G, 'BOM', '\ufeffFROM alpine\n')
case(G, 'no trailing newline', 'FROM alpine\nRUN true')
case(G, 'CRLF line ends', 'FROM alpine\r\nRUN true\r\n\r\nCMD ["sh"]\r\n')
case(G, 'leading whitespace before instruction', '   FROM alpine\n\tRUN x\n')
case(G, 'blank lines between instructions', 'FROM a\n\n\n\nRUN b\n')

# ---------------------------------------------------------------- keywords
G = 'keywords'
case(G, 'lowercase keywords', 'from alpine\nrun echo hi\ncmd ["x"]\n')
case(G, 'mixed case keywords', 'FrOm alpine\nRuN echo\n')
case(G, 'unknown instruction', 'FROM alpine\nFORM x\nRUN a\n')
case(G, 'unknown instruction alone', 'FOO\n')
case(G, 'unknown instruction with flags', 'BAR --x=1 y\n')
case(G, 'keyword glued to text is unknown', 'RUNecho hi\n')
case(G, 'keyword glued to quote is unknown', 'RUN"echo"\n')
case(G, 'all keywords',
     'FROM a\nRUN b\nCMD c\nLABEL d=e\nMAINTAINER f\nEXPOSE 1\nENV g=h\nADD i j\nCOPY k l\n'
     'ENTRYPOINT m\nVOLUME /n\nUSER o\nWORKDIR /p\nARG q\nONBUILD RUN r\nSTOPSIGNAL SIGTERM\n'
     'HEALTHCHECK NONE\nSHELL ["s"]\n')
case(G, 'half-typed FROM', 'FROM alpine\nFROM\nRUN x\n')
case(G, 'half-typed ENV', 'FROM alpine\nENV\nRUN x\n')
case(G, 'MAINTAINER', 'MAINTAINER John Doe <john@example.com>\n')

# ---------------------------------------------------------------- FROM
G = 'from'
case(G, 'image only', 'FROM alpine\n')
case(G, 'image with tag', 'FROM alpine:3.19\n')
case(G, 'image with digest', 'FROM alpine@sha256:0123abcd\n')
case(G, 'image with tag and digest', 'FROM alpine:3.19@sha256:0123abcd\n')
case(G, 'registry with port', 'FROM localhost:5000/team/app:1.0\n')
case(G, 'registry with port no tag', 'FROM registry.example.com:443/app\n')
case(G, 'stage name', 'FROM golang:1.22 AS build\n')
case(G, 'lowercase as', 'FROM golang as build\n')
case(G, 'platform flag', 'FROM --platform=linux/amd64 alpine\n')
case(G, 'platform flag with variable', 'FROM --platform=$BUILDPLATFORM golang:1.22 AS build\n')
case(G, 'variable image', 'FROM ${BASE_IMAGE}\n')
case(G, 'variable tag', 'FROM python:${PY_VERSION}-slim\n')
case(G, 'variables everywhere', 'FROM ${REGISTRY}/app:${TAG}@${DIGEST} AS ${NAME}x\n')
case(G, 'scratch', 'FROM scratch\n')
case(G, 'half-typed AS', 'FROM alpine AS\nRUN x\n')
case(G, 'stage reference', 'FROM alpine AS base\nFROM base\n')

# ---------------------------------------------------------------- RUN
G = 'run'
case(G, 'shell form', 'RUN apt-get update && apt-get install -y curl\n')
case(G, 'shell form with quotes', 'RUN echo "a b" \'c d\'\n')
case(G, 'shell form with variables', 'RUN echo $HOME ${PATH}\n')
case(G, 'shell form trailing blanks', 'RUN echo hi   \n')
case(G, 'exec form', 'RUN ["echo", "hi"]\n')
case(G, 'exec form empty', 'RUN []\n')
case(G, 'exec form escapes', 'RUN ["echo", "a\\"b", "\\u00e9\\n"]\n')
case(G, 'exec form with leading blanks', 'RUN    [ "a" ]\n')
case(G, 'text after the JSON array makes shell form',
     'RUN ["echo", "hi"] trailing\nCMD ["a"] # not a comment\nENTRYPOINT ["a"]   \\\n')
case(G, 'single quotes fall back to shell form', "RUN ['echo', 'hi']\n")
case(G, 'unterminated array falls back to shell form', 'RUN ["echo", "hi"\n')
case(G, 'unterminated string falls back to shell form', 'RUN ["echo\n')
case(G, 'half-typed array is shell form', 'FROM a\nRUN ["a", \nRUN b\n')
case(G, 'trailing comma falls back to shell form', 'RUN ["a",]\n')
case(G, 'non-string element', 'RUN ["a", 1, true, null]\n')
case(G, 'nested array element', 'RUN ["a", ["b"], {"c": 1}]\n')
case(G, 'tab inside JSON string falls back', 'RUN ["a\tb"]\n')
case(G, 'bracket text is shell form', 'RUN [ -f /x ] && echo y\n')
case(G, 'mount flag', 'RUN --mount=type=cache,target=/root/.cache pip install x\n')
case(G, 'several mounts', 'RUN --mount=type=bind,source=.,target=/src,rw --mount=type=secret,id=tok make\n')
case(G, 'mount with variable', 'RUN --mount=type=cache,target=${CACHE} go build\n')
case(G, 'network and security flags', 'RUN --network=none --security=insecure make\n')
case(G, 'flag without value', 'RUN --no-cache make\n')
case(G, 'flags then exec form', 'RUN --network=host ["make"]\n')
case(G, 'double dash then exec form', 'RUN --network=host -- ["make"]\n')
case(G, 'double dash at end of line', 'RUN --no-cache --\nRUN x\n')
case(G, 'empty RUN', 'RUN\nRUN x\n')

# ---------------------------------------------------------------- CMD / ENTRYPOINT / SHELL
G = 'cmd'
case(G, 'CMD exec', 'CMD ["nginx", "-g", "daemon off;"]\n')
case(G, 'CMD shell', 'CMD nginx -g "daemon off;"\n')
case(G, 'ENTRYPOINT exec', 'ENTRYPOINT ["/docker-entrypoint.sh"]\n')
case(G, 'ENTRYPOINT shell', 'ENTRYPOINT exec /app "$@"\n')
case(G, 'SHELL', 'SHELL ["/bin/bash", "-o", "pipefail", "-c"]\n')
case(G, 'SHELL powershell', 'SHELL ["powershell", "-Command", "$ErrorActionPreference = \'Stop\';"]\n')
case(G, 'CMD heredoc marker is text', 'CMD cat <<EOF\nEOF\n')
case(G, 'CMD multi-line exec', 'CMD [ \\\n  "a", \\\n  "b" \\\n]\n')
case(G, 'CMD JSON with comment line', 'CMD ["a", \\\n# comment\n  "b"]\n')

# ---------------------------------------------------------------- HEALTHCHECK
G = 'healthcheck'
case(G, 'NONE', 'HEALTHCHECK NONE\n')
case(G, 'CMD shell', 'HEALTHCHECK CMD curl -f http://localhost/ || exit 1\n')
case(G, 'CMD exec', 'HEALTHCHECK CMD ["curl", "-f", "http://localhost/"]\n')
case(G, 'flags', 'HEALTHCHECK --interval=30s --timeout=3s --retries=3 CMD wget -q -O- localhost\n')
case(G, 'lowercase cmd', 'healthcheck cmd true\n')
case(G, 'continuation before CMD', 'HEALTHCHECK --interval=5s \\\n  CMD /check.sh\n')
case(G, 'unknown type', 'HEALTHCHECK CONNECT TCP 7000\n')
case(G, 'empty', 'HEALTHCHECK\n')

# ---------------------------------------------------------------- ENV
G = 'env'
case(G, 'key=value', 'ENV A=1\n')
case(G, 'several pairs', 'ENV A=1 B=2 C=3\n')
case(G, 'quoted values', 'ENV A="hello world" B=\'single\'\n')
case(G, 'legacy form', 'ENV PATH /usr/local/bin:$PATH\n')
case(G, 'legacy form with spaces', 'ENV MSG hello big world\n')
case(G, 'legacy key only', 'ENV A\n')
case(G, 'empty value', 'ENV A= B=2\n')
case(G, 'value with equals', 'ENV OPTS=-Dx=y\n')
case(G, 'value concatenation', 'ENV A="x"y\'z\'$B\n')
case(G, 'escaped space', 'ENV A=hello\\ world\n')
case(G, 'multi-line ENV', 'ENV A=1 \\\n    B=2 \\\n    C=3\n')
case(G, 'variable value', 'ENV GOPATH=/go PATH=$GOPATH/bin:$PATH\n')
case(G, 'quoted key', 'ENV "A"=1\n')
case(G, 'pair without equals after pairs', 'ENV A=1 B\n')
case(G, 'space before equals is legacy', 'ENV A =b\n')
case(G, 'empty value then quoted pair', 'ENV A= B="x" C=\n')
case(G, 'empty value before continuation', 'ENV A= \\\n    B=2\n')
case(G, 'value glued across continuation', 'ENV A=\\\nb\n')

# ---------------------------------------------------------------- LABEL
G = 'label'
case(G, 'key=value', 'LABEL version=1.0\n')
case(G, 'quoted key and value', 'LABEL "com.example.vendor"="ACME Inc"\n')
case(G, 'dotted key', 'LABEL org.opencontainers.image.source=https://x\n')
case(G, 'several labels', 'LABEL a=1 b="2" c=\'3\'\n')
case(G, 'legacy label', 'LABEL maintainer someone@example.com\n')
case(G, 'multi-line labels', 'LABEL a=1 \\\n      b=2\n')
case(G, 'label with variable', 'LABEL version=${VERSION}\n')
case(G, 'empty LABEL', 'LABEL\n')
case(G, 'empty value', 'LABEL a= b=c\n')

# ---------------------------------------------------------------- ARG
G = 'arg'
case(G, 'name', 'ARG VERSION\n')
case(G, 'name with default', 'ARG VERSION=1.0\n')
case(G, 'several names', 'ARG a b=1 c\n')
case(G, 'quoted default', 'ARG MSG="hello world"\n')
case(G, 'default with variable', 'ARG TAG=${VERSION}-alpine\n')
case(G, 'empty default', 'ARG A=\n')
case(G, 'empty default then name', 'ARG A= B\n')
case(G, 'variable as name', 'ARG ${src}=x\n')
case(G, 'ARG before FROM', 'ARG BASE=alpine\nFROM ${BASE}\n')

# ---------------------------------------------------------------- EXPOSE
G = 'expose'
case(G, 'port', 'EXPOSE 80\n')
case(G, 'several ports', 'EXPOSE 80 443\n')
case(G, 'protocol', 'EXPOSE 53/udp 53/tcp\n')
case(G, 'range', 'EXPOSE 8000-8010\n')
case(G, 'variable', 'EXPOSE ${PORT}\n')
case(G, 'variable and protocol', 'EXPOSE $PORT/udp\n')

# ---------------------------------------------------------------- COPY / ADD
G = 'copy'
case(G, 'COPY', 'COPY src/ /app/\n')
case(G, 'COPY several sources', 'COPY a b c /dst/\n')
case(G, 'COPY from stage', 'COPY --from=build /out/app /usr/bin/app\n')
case(G, 'COPY chown chmod link', 'COPY --chown=1000:1000 --chmod=755 --link a /b\n')
case(G, 'COPY JSON', 'COPY ["a b", "/dst dir/"]\n')
case(G, 'COPY variables', 'COPY ${SRC}/x $DST\n')
case(G, 'COPY quoted path', 'COPY "a b" /c\n')
case(G, 'ADD URL', 'ADD https://example.com/x.tar.gz /tmp/\n')
case(G, 'ADD checksum', 'ADD --checksum=sha256:abc https://x/y /z\n')
case(G, 'ADD JSON', 'ADD ["a", "b"]\n')
case(G, 'half-typed flag', 'FROM a\nCOPY --fr\nRUN b\n')
case(G, 'COPY exclude and parents', 'COPY --parents --exclude=*.md ./docs /out\n')
case(G, 'double dash ends flags', 'COPY --link -- --from=x /dst\n')
case(G, 'double dash alone', 'COPY -- a b\n')

# ---------------------------------------------------------------- VOLUME and others
G = 'misc'
case(G, 'VOLUME', 'VOLUME /data\n')
case(G, 'VOLUME several', 'VOLUME /a /b\n')
case(G, 'VOLUME JSON', 'VOLUME ["/data", "/logs"]\n')
case(G, 'USER', 'USER nobody\n')
case(G, 'USER with group', 'USER 1000:1000\n')
case(G, 'USER variable', 'USER ${UID}:${GID}\n')
case(G, 'WORKDIR', 'WORKDIR /app\n')
case(G, 'WORKDIR with variable', 'WORKDIR $HOME/src\n')
case(G, 'WORKDIR with spaces', 'WORKDIR /my dir\n')
case(G, 'STOPSIGNAL', 'STOPSIGNAL SIGQUIT\n')
case(G, 'STOPSIGNAL number', 'STOPSIGNAL 9\n')

# ---------------------------------------------------------------- ONBUILD
G = 'onbuild'
case(G, 'ONBUILD RUN', 'ONBUILD RUN make\n')
case(G, 'ONBUILD COPY', 'ONBUILD COPY . /app\n')
case(G, 'ONBUILD with exec form', 'ONBUILD CMD ["x"]\n')
case(G, 'ONBUILD ENV', 'ONBUILD ENV A=1\n')
case(G, 'ONBUILD lowercase', 'onbuild run x\n')
case(G, 'ONBUILD heredoc', 'ONBUILD RUN <<EOF\necho hi\nEOF\nFROM x\n')
case(G, 'ONBUILD empty', 'ONBUILD\n')
case(G, 'ONBUILD unknown', 'ONBUILD FOO bar\n')

# ---------------------------------------------------------------- heredocs
G = 'heredoc'
case(G, 'RUN heredoc', 'RUN <<EOF\napt-get update\napt-get install -y x\nEOF\n')
case(G, 'empty heredoc', 'RUN <<EMPTY\nEMPTY\n')
case(G, 'file descriptor', 'RUN 3<<EOF\nx\nEOF\n')
case(G, 'chomp terminator with tabs', 'RUN <<-EOF\n\techo a\n\tEOF\n')
case(G, 'no chomp: tabbed terminator is body', 'RUN <<EOF\n\tEOF\nEOF\n')
case(G, 'quoted delimiter', "RUN <<'EOF'\necho $HOME\nEOF\n")
case(G, 'double-quoted delimiter', 'RUN <<"EOF"\nx\nEOF\n')
case(G, 'partly quoted delimiter', 'RUN <<E"O"F\nx\nEOF\n')
case(G, 'two heredocs in COPY', 'COPY <<A <<B /dst/\ncontent a\nA\ncontent b\nB\n')
case(G, 'heredoc bodies in order', 'COPY <<X <<Y /dest\nY\nX\nX\nY\n')
case(G, 'heredoc with command after', 'RUN <<EOF bash\necho\nEOF\n')
case(G, 'heredoc with redirect', 'RUN cat <<EOF > /etc/x.conf\nkey=value\nEOF\n')
case(G, 'heredoc body keeps comments and continuations raw', 'RUN <<EOF\n# not a comment\necho a \\\nEOF\nRUN b\n')
case(G, 'heredoc body with variables is raw', 'RUN <<EOF\necho ${A:-b}\nEOF\n')
case(G, 'heredoc with mount flag', 'RUN --mount=type=cache,target=/c <<EOF\nmake\nEOF\n')
case(G, 'heredoc with spaces after <<', 'RUN <<  EOF\nx\nEOF\n')
case(G, 'quoted marker is not a heredoc', 'RUN "<<NOHEREDOC"\n')
case(G, 'heredoc in JSON form is not a heredoc', 'RUN ["<<EOF"]\nRUN x\n')
case(G, 'heredoc in USER is not a heredoc', 'USER <<INVALID\nINVALID\n')
case(G, 'triple less-than is not a heredoc', 'RUN cat <<<EOF\n')
case(G, 'dollar name', 'RUN <<$EOF\n$EOF\n')
case(G, 'name with dot', 'COPY <<file.txt /dest\nhello\nfile.txt\n')
case(G, 'quoted name with space', "RUN <<'one two'\necho\none two\n")
case(G, 'terminator with CRLF', 'RUN <<EOF\r\nx\r\nEOF\r\nRUN y\r\n')
case(G, 'heredoc at end of file without newline', 'RUN <<EOF\nx\nEOF')
case(G, 'unterminated heredoc is an error at the marker', 'FROM a\nRUN <<EOF\necho hi\nRUN b\n')
case(G, 'heredoc marker after continuation', 'RUN cat \\\n  <<EOF\nx\nEOF\n')
case(G, 'heredoc then more instructions', 'RUN <<EOF\na\nEOF\nCOPY x y\n')
case(G, 'glued word is not a heredoc', 'RUN cat<<EOF\n')
case(G, 'ADD heredoc', 'ADD <<EOF /x\ny\nEOF\n')

# ---------------------------------------------------------------- variables
G = 'variables'
case(G, 'simple', 'ENV A=$B\n')
case(G, 'braced', 'ENV A=${B}\n')
for op in [':-', '-', ':+', '+', ':?', '?', '#', '##', '%', '%%', '/', '//']:
    case(G, 'operator ' + op, 'ENV A=${B' + op + 'x}\n')
case(G, 'nested', 'ENV A=${a:-${b:-c}}\n')
case(G, 'argument with spaces', 'ENV A="${B:-hello world}"\n')
case(G, 'lone dollar', 'ENV A=$ B=a$\n')
case(G, 'special parameters', 'ENV A=$1 B=$@\n')
case(G, 'in double quotes', 'ENV A="pre ${B} post $C"\n')
case(G, 'not in single quotes', "ENV A='$B'\n")
case(G, 'replacement pattern', 'ENV A=${B/x/y}\n')
case(G, 'expansion followed by text', 'WORKDIR ${HOME}/src\n')

# ---------------------------------------------------------------- recovery
G = 'recovery'
case(G, 'unterminated double quote stays in its instruction', 'FROM a\nENV A="x\nRUN b\n')
case(G, 'stray text after FROM', 'FROM a b c\nRUN x\n')
case(G, 'half-typed flag equals', 'FROM a\nCOPY --from= x y\nRUN z\n')
case(G, 'half-typed variable', 'FROM a\nENV A=${\nRUN z\n')
case(G, 'half-typed exec form', 'FROM a\nCMD [\nRUN z\n')
case(G, 'unknown keyword between instructions', 'FROM a\nRN x\nRUN z\n')


def strip_positions(out):
    lines = []
    for line in out.splitlines():
        if not line.strip() or line.startswith('Warning') or 'tree-sitter init-config' in line \
                or line.startswith('configuration file') or line.startswith('language grammars') \
                or line.startswith('/'):
            continue
        line = re.sub(r' \[\d+, \d+\] - \[\d+, \d+\]', '', line)
        lines.append(line)
    return '\n'.join(lines)


def main():
    outdir = os.path.join(ROOT, 'test', 'corpus')
    os.makedirs(outdir, exist_ok=True)
    total = 0
    for group, cases in CASES.items():
        parts = []
        for title, text in cases:
            with tempfile.NamedTemporaryFile('wb', suffix='.Dockerfile', delete=False) as f:
                f.write(text.encode('utf-8'))
                path = f.name
            out = subprocess.run([TS, 'parse', path], cwd=ROOT, capture_output=True,
                                 text=True).stdout
            os.unlink(path)
            expected = strip_positions(out)
            bar = '=' * 72
            # the test reader drops the newline before '---': keep one extra
            parts.append(f'{bar}\n{title}\n{bar}\n{text}\n---\n\n{expected}\n')
            total += 1
        with open(os.path.join(outdir, group + '.txt'), 'w', encoding='utf-8', newline='') as f:
            f.write('\n'.join(parts))
    print(total, 'cases')


if __name__ == '__main__':
    main()
