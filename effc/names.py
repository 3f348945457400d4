"""The one place where model strings become code: identifiers and comment text.

Names in an ONNX file (graph, nodes, tensors) and file stems are arbitrary
Unicode chosen by whoever made the model. Nothing of them reaches generated
C, C++ or Verilog except through this module:

- ``c_identifier`` turns any string into an ASCII identifier that is no C,
  C++ or Verilog keyword, starts with a letter and stays short;
- ``Namer`` makes such identifiers unique within one generated file and
  keeps them clear of effc's own names (``effc_*`` runtime symbols, files
  and header guards, and the locals of generated functions);
- ``model_symbol`` checks a model's symbol prefix (``--name`` or the model
  file's stem) against effc's own files, symbols and the C library headers;
- ``comment_text`` makes any string safe inside a ``/* */`` or ``//`` comment.
"""

from __future__ import annotations

import re
import unicodedata

from effc.errors import EffcError

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto if
inline int long register restrict return short signed sizeof static struct switch typedef
union unsigned void volatile while _Bool _Complex _Imaginary _Alignas _Alignof _Atomic
_Generic _Noreturn _Static_assert _Thread_local bool true false NULL
""".split())
CPP_KEYWORDS = frozenset("""
alignas alignof and and_eq asm bitand bitor catch char8_t char16_t char32_t class compl
concept consteval constexpr constinit const_cast co_await co_return co_yield decltype delete
dynamic_cast explicit export friend mutable namespace new noexcept not not_eq nullptr
operator or or_eq private protected public reinterpret_cast requires static_assert
static_cast template this thread_local throw try typeid typename using virtual wchar_t xor
xor_eq
""".split())
VERILOG_KEYWORDS = frozenset("""
always always_comb always_ff always_latch assign begin bit buf byte case casex casez cell
cmos config deassign defparam design disable edge else end endcase endconfig endfunction
endgenerate endmodule endprimitive endspecify endtable endtask event for force forever fork
function generate genvar highz0 highz1 if ifnone incdir include initial inout input instance
integer join large liblist library localparam logic macromodule medium module nand negedge
nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive pull0
pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real realtime reg release
repeat rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify
specparam strong0 strong1 supply0 supply1 table task time tran tranif0 tranif1 tri tri0 tri1
triand trior trireg unsigned use uwire vectored wait wand weak0 weak1 while wire wor xnor xor
""".split())
KEYWORDS = C_KEYWORDS | CPP_KEYWORDS | VERILOG_KEYWORDS

#: Headers a generated file or effc's runtime includes with <...>: a model
#: header of the same name in the include path would shadow them.
C_HEADERS = frozenset("""
assert complex ctype errno fenv float inttypes iso646 limits locale math setjmp signal
stdalign stdarg stdatomic stdbool stddef stdint stdio stdlib stdnoreturn string tgmath
threads time uchar wchar wctype arm_acle arm_math cmsis_compiler
""".split())

#: Locals and parameters of the generated ``<name>_run`` functions.
GENERATED_LOCALS = frozenset("""
in out status scratch params quant input_dims filter_dims output_dims dims bcast inputs
inner in_q out_q arena ctx effc_arena EFFC_ALIGNED EFFC_LAYER_START EFFC_PROFILE
""".split())

MAX_IDENTIFIER = 40
_RESERVED_PREFIX = "effc"
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


def _is_reserved(ident: str) -> bool:
    lower = ident.lower()
    return (lower == _RESERVED_PREFIX or lower.startswith(_RESERVED_PREFIX + "_")
            or ident in KEYWORDS or lower in C_HEADERS)


def c_identifier(text: str, fallback: str = "x") -> str:
    """Any string as an ASCII identifier: letters, digits and single underscores,
    a letter first, at most MAX_IDENTIFIER characters, no keyword and not in
    effc's own namespace (such names get a ``m_`` prefix)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    cleaned = re.sub(r"[^A-Za-z0-9]+", "_", ascii_text).strip("_")[:MAX_IDENTIFIER].strip("_")
    if not cleaned:
        cleaned = fallback
    if not cleaned[0].isalpha() or _is_reserved(cleaned):
        cleaned = f"m_{cleaned}"
    return cleaned


class Namer:
    """Unique identifiers for one generated file.

    ``reserved`` names (besides keywords and effc's own namespace) are never
    handed out; each call of ``unique`` returns a new identifier.
    """

    def __init__(self, reserved: set[str] | frozenset[str] = frozenset()) -> None:
        self.taken: set[str] = {r.lower() for r in reserved | GENERATED_LOCALS}

    def unique(self, text: str, prefix: str = "") -> str:
        base = c_identifier(prefix + text)
        ident, n = base, 1
        while ident.lower() in self.taken or _is_reserved(ident):
            ident = f"{base}_{n}"
            n += 1
        self.taken.add(ident.lower())
        return ident


def model_symbol(name: str, what: str) -> str:
    """Check a model's C symbol prefix (also its file names and header guard)."""
    if not _IDENT.fullmatch(name) or len(name) > MAX_IDENTIFIER:
        raise EffcError(f"{what} '{comment_text(name)}' is not a C identifier; use ASCII "
                        f"letters, digits and _ (a letter first, at most {MAX_IDENTIFIER} "
                        "characters)")
    if _is_reserved(name) or name.lower() in GENERATED_LOCALS:
        raise EffcError(f"{what} '{name}' is one of effc's own names (effc_*, a C/C++/Verilog "
                        "keyword or a C library header); choose another --name")
    return name


_COMMENT_SAFE = re.compile(r"[A-Za-z0-9 _.,:;=+#@()\[\]{}!%^~/-]")


def comment_text(text: str, limit: int = 60) -> str:
    """``text`` safe inside a C/C++/Verilog comment or a Markdown table cell:
    letters, digits, space and ``_.,:;=+#@()[]{}!%^~/-`` are kept; everything else
    (``*`` and so every comment delimiter, ``\\ ? | < > &`` and quotes, line
    breaks, bidi controls, non-ASCII) becomes
    ``\\xHH`` / ``\\uHHHH``. Long text keeps its last ``limit`` characters."""
    out = []
    for ch in text[-limit:] if limit else text:
        if _COMMENT_SAFE.fullmatch(ch):
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}")
    return "".join(out)
