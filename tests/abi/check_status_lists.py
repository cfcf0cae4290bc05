#!/usr/bin/env python3
"""Every list of statuses agrees with LF_STATUS_MAP, the one list in auth.h.

Checked against the map (name and value of every entry, nothing more,
nothing less):
  - the `lf_status` enum spelled out in the same header;
  - the Go binding's Status constants (StatusOK, ErrInvalidArgument, ...);
  - the Rust -sys crate's LF_* constants;
  - the Rust safe crate's Status enum and its TABLE of raw values;
  - the status table of README.md.
Binding names are matched by letters only, case ignored: E_REDIRECT_URI_NOT_ALLOWED
is ErrRedirectURINotAllowed in Go and RedirectUriNotAllowed in Rust.

Usage: check_status_lists.py HEADER GO_ERRORS_GO RUST_SYS_LIB_RS RUST_ERROR_RS README_MD
       check_status_lists.py --self-test HEADER GO... (also proves that a
       dropped or renumbered status in each list is reported)
"""
import re
import sys


def fold(name):
    return re.sub(r"[^A-Za-z0-9]", "", name).upper()


def header_map(text):
    m = re.search(r"#define LF_STATUS_MAP\(XX\)((?:.*\\\n)*.*\n)", text)
    if not m:
        raise SystemExit("auth.h: no LF_STATUS_MAP(XX) definition")
    rows = re.findall(r'XX\(\s*(\w+)\s*,\s*(\d+)\s*,\s*"(?:[^"\\]|\\.)*"\s*\)', m.group(1))
    if not rows:
        raise SystemExit("auth.h: LF_STATUS_MAP has no entries")
    return [("LF_" + n, int(v)) for n, v in rows]


def header_enum(text):
    m = re.search(r"typedef enum lf_status \{(.*?)\} lf_status;", text, re.S)
    if not m:
        return []
    body = re.sub(r"/\*.*?\*/", "", m.group(1), flags=re.S)
    return [(n, int(v)) for n, v in re.findall(r"\b(LF_\w+)\s*=\s*(\d+)", body)]


def go_consts(text):
    # type Status's constants: `Name Status = 12`.
    return [(n, int(v)) for n, v in re.findall(r"^\s*(\w+)\s+Status\s*=\s*(\d+)", text, re.M)]


def rust_sys_consts(text):
    return [(n, int(v)) for n, v in re.findall(r"pub const (LF_\w+): lf_status = (\d+);", text)]


def rust_safe(text):
    m = re.search(r"pub enum Status \{(.*?)\n\}", text, re.S)
    variants = []
    if m:
        body = re.sub(r"///.*", "", m.group(1))
        variants = [v for v in re.findall(r"^\s*(\w+)\s*[,(]", body, re.M) if v != "Unknown"]
    table = re.findall(r"\(Status::(\w+),\s*sys::(LF_\w+) as u32\)", text)
    return variants, table


def readme_table(text):
    # | 9 | `LF_E_TIMEOUT` | ... |
    return [(n, int(v)) for v, n in re.findall(r"^\|\s*(\d+)\s*\|\s*`(LF_\w+)`\s*\|", text, re.M)]


def compare(what, got, want, key=lambda n: n):
    """got/want: [(name, value)]; names compared through key()."""
    problems = []
    want_by = {key(n): (n, v) for n, v in want}
    got_by = {}
    for n, v in got:
        k = key(n)
        if k in got_by:
            problems.append(f"{what}: {n} appears twice")
        got_by[k] = (n, v)
    for k, (n, v) in want_by.items():
        if k not in got_by:
            problems.append(f"{what}: no entry for {n}" + ("" if v is None else f" = {v}"))
        elif got_by[k][1] != v:
            problems.append(f"{what}: {got_by[k][0]} is {got_by[k][1]}, the map says {n} = {v}")
    for k, (n, v) in got_by.items():
        if k not in want_by:
            problems.append(f"{what}: {n}" + ("" if v is None else f" = {v}") + " is not in LF_STATUS_MAP")
    return problems


def go_key(name):
    # StatusOK <-> LF_OK, ErrTimeout <-> LF_E_TIMEOUT
    f = fold(name)
    for prefix, repl in (("STATUS", "LF"), ("ERR", "LFE")):
        if f.startswith(prefix):
            return repl + f[len(prefix):]
    return f


def check(header, go, rust_sys, rust_err, readme):
    status_map = header_map(header)
    problems = []
    problems += compare("auth.h enum lf_status", header_enum(header), status_map)
    problems += compare("Go Status constants", go_consts(go), status_map, go_key)
    problems += compare("Rust -sys constants", rust_sys_consts(rust_sys), status_map)
    problems += compare("README.md status table", readme_table(readme), status_map)
    variants, table = rust_safe(rust_err)
    errors_only = [(n, v) for n, v in status_map if n != "LF_OK"]
    value_of = dict(status_map)
    problems += compare("Rust Status::TABLE", [(sysname, value_of.get(sysname, -1)) for _, sysname in table],
                        errors_only)
    for variant, sysname in table:
        if fold(variant) != fold(sysname[len("LF_E_"):]):
            problems.append(f"Rust Status::TABLE pairs Status::{variant} with {sysname}")
    problems += compare("Rust Status variants", [("Status::" + v, None) for v in variants],
                        [(n, None) for n, _ in errors_only], lambda n: fold(n.split("::")[-1].replace("LF_E_", "")))
    return problems


def self_test(files):
    """Each list, with one status dropped and one renumbered, must be reported."""
    mutations = {
        "enum": (0, r"LF_E_TIMEOUT = 9,", "LF_E_TIMEOUT = 90,"),
        "enum drop": (0, r"\n    LF_E_TLS = 10,[^\n]*", ""),
        "go": (1, r"ErrTimeout(\s+)Status = 9", r"ErrTimeout\1Status = 90"),
        "go drop": (1, r"\n\s*ErrTLS\s+Status = 10[^\n]*", ""),
        "rust-sys": (2, r"LF_E_TIMEOUT: lf_status = 9;", "LF_E_TIMEOUT: lf_status = 90;"),
        "rust-sys drop": (2, r"\npub const LF_E_TLS: lf_status = 10;", ""),
        "rust table": (3, r"\(Status::Tls, sys::LF_E_TLS as u32\),", ""),
        "rust pair": (3, r"Status::Timeout, sys::LF_E_TIMEOUT", "Status::Tls, sys::LF_E_TIMEOUT"),
        "rust variant": (3, r"\n    Tls,", ""),
        "readme": (4, r"\| 9 \| `LF_E_TIMEOUT`", "| 90 | `LF_E_TIMEOUT`"),
        "readme drop": (4, r"\n\| 10 \| `LF_E_TLS`[^\n]*", ""),
        "map": (0, r'XX\(E_TLS, 10, ', 'XX(E_TLS, 11, '),
    }
    failed = False
    for label, (index, pattern, repl) in mutations.items():
        texts = list(files)
        texts[index], n = re.subn(pattern, repl, texts[index], count=1)
        if n != 1:
            print(f"self-test {label}: pattern {pattern!r} not found", file=sys.stderr)
            failed = True
        elif not check(*texts):
            print(f"self-test {label}: the drift was not reported", file=sys.stderr)
            failed = True
    return failed


def main(argv):
    self = argv[1:2] == ["--self-test"]
    paths = argv[2:] if self else argv[1:]
    if len(paths) != 5:
        raise SystemExit(__doc__)
    files = []
    for p in paths:
        with open(p, encoding="utf-8") as f:
            files.append(f.read())
    problems = check(*files)
    for p in problems:
        print(p, file=sys.stderr)
    if self and self_test(files):
        return 1
    if not problems:
        print(f"{len(header_map(files[0]))} statuses agree: auth.h map and enum, Go, Rust -sys, Rust Status, README")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
