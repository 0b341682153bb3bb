"""The string literals of a JavaScript file, each with the code just before and after it, for the catalog checks
of tests/web/test_js_i18n.py (issue 15.13): a small lexer, not a parser. It knows comments, '…' and "…" strings,
`…` templates (whose ${…} parts are lexed again) and regular-expression literals, which is all the web app's
modules use; a template's static text comes back with "{}" where each ${…} was.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# After one of these (or at the start) a "/" opens a regular expression, not a division.
REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}
REGEX_KEYWORDS = ("return", "typeof", "case", "of", "in", "do", "else", "void", "yield", "await")


@dataclass(frozen=True)
class Literal:
    text: str  # the value; a template's static parts joined by "{}"
    before: str  # up to 60 characters of code before the opening quote
    after: str  # up to 30 characters of code after the closing quote
    line: int
    template: bool
    start: int  # offsets of the quotes in the source
    stop: int


def literals(source: str) -> list[Literal]:
    found: list[Literal] = []
    _scan(source, 0, len(source), found, source)
    return found


def _prev_significant(source: str, at: int) -> str:
    i = at - 1
    while i >= 0 and source[i] in " \t\r\n":
        i -= 1
    if i < 0:
        return ""
    if source[i].isalnum() or source[i] in "_$":
        j = i
        while j >= 0 and (source[j].isalnum() or source[j] in "_$"):
            j -= 1
        word = source[j + 1:i + 1]
        return word if word in REGEX_KEYWORDS else "a"
    return source[i]


def _scan(source: str, start: int, end: int, out: list[Literal], whole: str) -> int:
    """Lex source[start:end]; returns where it stopped (at an unbalanced "}" inside a template's ${…})."""
    i = start
    depth = 0
    while i < end:
        c = source[i]
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = end if i < 0 else i
        elif source.startswith("/*", i):
            i = source.index("*/", i) + 2
        elif c in "'\"":
            j = i + 1
            while source[j] != c:
                j += 2 if source[j] == "\\" else 1
            value = _unescape(source[i + 1:j])
            out.append(_literal(whole, value, i, j + 1, template=False))
            i = j + 1
        elif c == "`":
            parts: list[str] = []
            j = i + 1
            piece = ""
            while source[j] != "`":
                if source[j] == "\\":
                    piece += source[j + 1]
                    j += 2
                elif source.startswith("${", j):
                    parts.append(piece)
                    piece = ""
                    j = _scan(source, j + 2, end, out, whole) + 1
                else:
                    piece += source[j]
                    j += 1
            parts.append(piece)
            out.append(_literal(whole, "{}".join(parts), i, j + 1, template=True))
            i = j + 1
        elif c == "/" and _prev_significant(source, i) in REGEX_BEFORE | set(REGEX_KEYWORDS):
            j = i + 1
            in_class = False
            while in_class or source[j] != "/":
                if source[j] == "\\":
                    j += 1
                elif source[j] == "[":
                    in_class = True
                elif source[j] == "]":
                    in_class = False
                j += 1
            i = j + 1
        elif c == "{":
            depth += 1
            i += 1
        elif c == "}":
            if depth == 0:
                return i
            depth -= 1
            i += 1
        else:
            i += 1
    return i


def _unescape(raw: str) -> str:
    return re.sub(r"\\(u\{?[0-9a-fA-F]+\}?|.)", lambda m: _ESCAPES.get(m[1], m[1]) if not m[1].startswith("u")
                  else chr(int(m[1].strip("u{}"), 16)), raw)


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0"}


def _literal(source: str, value: str, start: int, stop: int, template: bool) -> Literal:
    return Literal(text=value, before=source[max(0, start - 60):start], after=source[stop:stop + 30],
                   line=source.count("\n", 0, start) + 1, template=template, start=start, stop=stop)


# --- which literals a person reads ----------------------------------------------------------------------------

# The first argument of t(): a catalog key.
T_CALL = re.compile(r"(?<![\w.$])tn?\(\s*$")
# Literals that only code reads: module paths, RPC methods, selectors, storage keys, attribute names and values
# that are not shown, the "x" of `a === "x"`, object keys.
HIDDEN_BEFORE = re.compile(
    r"(?:\b(?:import|from|export)\s*|\bimport\(\s*"
    r"|\b(?:rpc|follow|subscribe|call|querySelector|querySelectorAll|getElementById|closest|addEventListener"
    r"|removeEventListener|dispatchEvent|CustomEvent|getItem|setItem|removeItem|importKey|exportKey|deriveBits|deriveKey"
    r"|digest|encode|createElement|getAttribute|setAttribute|removeAttribute|startsWith|endsWith|includes|has|get"
    r"|fetch|RegExp|split|join|padStart|el|event|sign|verify|decrypt|encrypt|generateKey|toString|find"
    r"|console\.\w+)\(\s*"
    r"|\b(?:class|className|id|type|name|for|href|role|rel|accept|autocomplete|inputmode|value|datetime|download"
    r"|colspan|loading|decoding|spellcheck|autocapitalize|src|tabindex|kind|method|topic|hash|lang|step|min|max"
    r"|maxlength|rows|status|state|format|mode)\s*:\s*"
    r'|"(?:aria-live|aria-hidden|aria-current|aria-labelledby|Content-Type)"\s*:\s*'
    r"|(?:===|!==|==|!=)\s*|\bcase\s+"
    r'|\bel\("(?:code|pre)"[^()]*,\s*)$')  # code shown as code: a command line, a tx body
HIDDEN_AFTER = re.compile(r"^\s*(?:===|!==|==|!=|\bin\b|\]\s*\??\.?\s*(?:includes|has|some))")
OBJECT_KEY = (re.compile(r"[{,]\s*$"), re.compile(r"^\s*:"))
# Where even a single lowercase word is shown: badges, notices, headings, errors, dialogs, visible attributes,
# an element's children.
VISIBLE_BEFORE = re.compile(
    r"(?:\b(?:badge|notice|heading|Error|confirm|toast|alert)\(\s*|\b(?:link|field)\([^,()]*,\s*"
    r'|(?:"aria-label"|placeholder|title|alt|"data-label"|label)\s*:\s*'
    r"|\bel\(\s*\"\w+\"\s*,\s*\{[^{}]*\}\s*,(?:[^()]*,)?\s*)$")
WORDS = re.compile(r"[A-Za-z]{2,}\W*\s\W*[A-Za-z]{2,}")  # two words: a phrase
CAPITALISED = re.compile(r"^\W*[A-Z][a-z]+")  # "Height", "Txs", "Go"
WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u4e00-\u9fff]")


def is_key(lit: Literal) -> bool:
    return bool(T_CALL.search(lit.before)) and not lit.template


def reads_as_text(lit: Literal) -> bool:
    """Whether a person would read this literal on a page (so it must be a t() key instead)."""
    if is_key(lit) or HIDDEN_BEFORE.search(lit.before) or HIDDEN_AFTER.search(lit.after):
        return False
    if OBJECT_KEY[0].search(lit.before) and OBJECT_KEY[1].search(lit.after):
        return False
    text = lit.text.replace("{}", " ")
    if CJK.search(text):  # written in both languages on purpose ("Language / 语言")
        return False
    if WORDS.search(text) or CAPITALISED.search(text):
        return True
    return bool(WORD.search(text)) and bool(VISIBLE_BEFORE.search(lit.before))
