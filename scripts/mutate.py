#!/usr/bin/env python3
"""Mutation check of the context switches: do the suites catch every lost register?

    python3 scripts/mutate.py ABI [--profiles debug,release] [--list] [--only SUBSTRING]...

ABI is x86_64_sysv (native), aarch64_aapcs64 (qemu-aarch64) or x86_64_win64 (Wine).
Each mutant is one single-point bug, applied to a scratch copy of the tree
(in the temporary directory; the checkout itself is never modified):

  - every instruction of the ABI's asm source (and of asm/x86_64_common.s) that
    saves or restores a callee-saved register, a stack pointer, a resume
    address or FP control state, in both switch families (cem_swapcontext and
    the Coroutine fast path), is deleted; a paired AArch64 stp/ldp loses one of
    its two registers at a time;
  - each TEB stack field copy (Windows) is deleted, on the save and on the load;
  - each register the fast path's inline asm declares clobbered is removed from
    that list (the compiler then keeps a value there across the switch);
  - the initial frames are misaligned by 8 bytes.

For each mutant the switch and coroutine test binaries are built and run, for
every profile (debug and release in parallel). A mutant is caught when a run
fails (a failed assertion, a crash or a time-out); it survives when every run
passes. Exits 1 if any mutant survives or does not build (a mutant that does
not build is a bug of this list, not a catch).
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

ABIS = {
    "x86_64_sysv": {
        "asm": ["asm/x86_64_sysv.s", "asm/x86_64_common.s", "asm/x86_64_sysv_resume.s",
                "asm/x86_64_sysv_suspend.s"],
        "rust": "src/arch/x86_64_sysv.rs",
        "cargo": [],
    },
    "x86_64_win64": {
        "asm": ["asm/x86_64_win64.s", "asm/x86_64_common.s", "asm/x86_64_win64_resume.s",
                "asm/x86_64_win64_suspend.s"],
        "rust": "src/arch/x86_64_win64.rs",
        "cargo": ["--target", "x86_64-pc-windows-gnu"],
        "wine": True,
    },
    # Judged on release builds: in a debug build Coroutine::resume and
    # Yielder::suspend are functions of their own that reload x19/x29 from
    # their frames right after the switch, so a switch that loses them has no
    # effect any test could observe there (the suites still run debug builds).
    "aarch64_aapcs64": {
        "asm": ["asm/aarch64_aapcs64.s", "asm/aarch64_aapcs64_resume.s",
                "asm/aarch64_aapcs64_suspend.s"],
        "rust": "src/arch/aarch64_aapcs64.rs",
        "cargo": ["--target", "aarch64-unknown-linux-gnu"],
        "profiles": "release",
    },
}

# Hand-written mutants of the Rust glue: (file, exact text, replacement, what).
INIT_MUTANTS = {
    "x86_64_sysv": [
        ("src/arch/x86_64_sysv.rs", "(top - size_of::<InitialFrame>()) as *mut InitialFrame",
         "(top - size_of::<InitialFrame>() - 8) as *mut InitialFrame",
         "init: initial frame misaligned by 8"),
        ("src/arch/x86_64_sysv.rs", "(frame_top - size_of::<CoroutineFrame>()) as *mut CoroutineFrame",
         "(frame_top - size_of::<CoroutineFrame>() - 8) as *mut CoroutineFrame",
         "init_coroutine: initial frame misaligned by 8"),
    ],
    "x86_64_win64": [
        ("src/arch/x86_64_win64.rs", "(top - size_of::<InitialFrame>()) as *mut InitialFrame",
         "(top - size_of::<InitialFrame>() - 8) as *mut InitialFrame",
         "init: initial frame misaligned by 8"),
        ("src/arch/x86_64_win64.rs",
         "(frame_top - size_of::<InitialCoroutineFrame>()) as *mut InitialCoroutineFrame",
         "(frame_top - size_of::<InitialCoroutineFrame>() - 8) as *mut InitialCoroutineFrame",
         "init_coroutine: initial frame misaligned by 8"),
    ],
    "aarch64_aapcs64": [
        ("src/arch/aarch64_aapcs64.rs", "        top as u64,\n    ));", "        (top - 8) as u64,\n    ));",
         "init: initial sp misaligned by 8"),
        ("src/arch/aarch64_aapcs64.rs",
         "(frame_top - size_of::<CoroutineFrame>()) as *mut CoroutineFrame",
         "(frame_top - size_of::<CoroutineFrame>() - 8) as *mut CoroutineFrame",
         "init_coroutine: initial frame misaligned by 8"),
    ],
}

X86_SAVED = r"%(rbx|rbp|rdi|rsi|r1[2-5]|rsp|rax|rcx|xmm(?:[6-9]|1[0-5]))"
# A move between a register and a named context/frame/link slot, in either direction.
# Names are plain in global_asm sources (CTX_RBX) and const operands in the
# inline-asm templates of the fast path ({FRAME_RBX}).
X86_SLOT = r"\{?(CTX|FRAME|LINK|PARENT)_\w+\}?\(%\w+\)"
X86_SLOT_MOVE = re.compile(
    r"^\s*(movq|movl|movups)\s+(" + X86_SAVED + r",\s*" + X86_SLOT
    + r"|" + X86_SLOT + r",\s*" + X86_SAVED + r")\s*$")
# The inline fast path saves rbx and rbp with push and restores them with pop:
# a lost save keeps the frame layout but leaves the slot stale, a lost restore
# skips the slot.
X86_PUSH_POP = re.compile(r"^(\s*)(pushq|popq)(\s+)%(rbx|rbp)\s*$")
X86_FP_LINE = re.compile(r"^\s*(stmxcsr|fnstcw|ldmxcsr|fldcw)\s")
# In FP_CONTROL_LOAD, after the skip branch: the merge of the incoming control
# bits with the current status flags. (Before the branch, dropping part of the
# comparison only makes the switch load when it could skip: same result.)
X86_SKIP = re.compile(r"^\s*jz\s")
X86_FP_MERGE = re.compile(r"^\s*(andl|xorl)\s")
# Stack pointer switches that are not plain slot moves.
X86_SP_LINE = re.compile(r"^\s*leaq\s+\{?FRAME_\w+\}?(-\d+)?\(%r(si|cx)\),\s*%rsp\s*$")

A64_PAIR = re.compile(r"^(\s*)(stp|ldp)(\s+)([xd]\d+|x29|x30),\s*([xd]\d+|x\d+),\s*\[(\w+),\s*#(\{?\w+\}?)\]\s*$")
A64_SINGLE = re.compile(r"^\s*(str|ldr)\s+(x\d+|d\d+),\s*\[(\w+),\s*#\{?(CTX|FRAME|LINK|PARENT)_\w+\}?\]\s*$")
A64_SP = re.compile(r"^\s*(mov\s+sp,\s*x\d+|add\s+sp,\s*x\d+,\s*#\{?(FRAME|PARENT)_SIZE\}?)\s*$")

# A store into a TEB field or a TEB slot: TEB_STACK_BASE(%r10),
# FRAME_TEB+TEB_SLOT_STACK_BASE(%rsp) in global_asm, {TEB_STACK_BASE}(%r10)
# and {FRAME_TEB}+{TEB_SLOT_STACK_BASE}(%rcx) in the inline-asm templates.
X86_TEB_MOVE = re.compile(r"^\s*mov[lq]\s+%\w+,\s*\S*TEB_\w+\}?\(%\w+\)\s*$")

FUNC = re.compile(r"^(FUNC_BEGIN|FUNC_ENTRY)\s+(\w+)")
MACRO = re.compile(r"^\.macro\s+(\w+)\s*(.*)$")


def mutable(code):
    """Whether deleting this instruction line is one of the mutants."""
    return any(r.match(code) for r in (X86_SLOT_MOVE, X86_FP_LINE, X86_SP_LINE, X86_TEB_MOVE,
                                       A64_SINGLE, A64_SP))


def parse_macros(lines):
    """The .macro definitions of a source: name -> (parameters, body lines)."""
    macros, i = {}, 0
    while i < len(lines):
        m = MACRO.match(lines[i].strip())
        if m:
            params = [p.strip() for p in m.group(2).split(",") if p.strip()]
            j = i + 1
            while lines[j].strip() != ".endm":
                j += 1
            macros[m.group(1)] = (params, lines[i + 1:j])
            i = j
        i += 1
    return macros


def expand(line, macros):
    """A macro invocation's body with its arguments substituted, nested
    invocations expanded too; any other line as it is."""
    words = line.strip().split(None, 1)
    if not words or words[0] not in macros:
        return [line]
    params, body = macros[words[0]]
    args = [a.strip() for a in words[1].split(",")] if len(words) > 1 else []
    out = []
    # Longest parameter names first: \tmp32 is the parameter tmp32, not tmp.
    pairs = sorted(zip(params, args), key=lambda pa: -len(pa[0]))
    for b in body:
        for p, a in pairs:
            b = b.replace("\\" + p, a)
        out += expand(b, macros)
    return out


def without(lines, i):
    """The source with line i deleted. In an inline-asm template a `{NAME}`
    operand that only this line used stays referenced from a comment: asm!
    rejects a named operand the template never uses, and the mutant is the
    missing instruction, not a build error."""
    names = re.findall(r"\{\w+\}", lines[i].split("//")[0])
    keep = [f"    // deleted: {' '.join(names)}"] if names else []
    return "\n".join(lines[:i] + keep + lines[i + 1:])


def asm_mutants(path, text, macros):
    """Yields (description, new_text) for every mutant of one asm source.
    Instructions inside macros are mutated at each invocation site (the
    invocation is replaced by its expansion minus one instruction), so each
    switch family is checked on its own."""
    lines = text.split("\n")
    where, in_macro = os.path.basename(path), False
    # Inline-asm templates write the FP merge out (no macro): a merge line is
    # one after a `jz` and before the next label.
    after_jz = False
    for i, line in enumerate(lines):
        stripped = line.strip()
        code0 = line.split("//")[0].strip()
        if re.match(r"^\w+:$", code0):
            after_jz = False
        if X86_SKIP.match(code0):
            after_jz = True
            continue
        if after_jz and X86_FP_MERGE.match(code0) and not in_macro:
            yield (f"delete {path}:{i + 1} [{where}] {code0} (FP merge)",
                   without(lines, i))
            continue
        if MACRO.match(stripped):
            in_macro = True
        elif stripped == ".endm":
            in_macro = False
        m = FUNC.match(line)
        if m:
            where = m.group(2)
        code = line.split("//")[0].rstrip()
        if in_macro or not code.strip():
            continue
        label = f"{path}:{i + 1} [{where}] {code.strip()}"
        body = expand(code, macros)
        if len(body) > 1 or body[0] != code:
            yield ("delete " + label, without(lines, i))
            after_skip = False
            for k, b in enumerate(body):
                b_code = b.split("//")[0].rstrip()
                merge = after_skip and X86_FP_MERGE.match(b_code)
                after_skip = after_skip or bool(X86_SKIP.match(b_code))
                if merge or mutable(b_code):
                    yield (f"delete `{b.strip()}` from {label}",
                           "\n".join(lines[:i] + body[:k] + body[k + 1:] + lines[i + 1:]))
            continue
        if mutable(code):
            yield ("delete " + label, without(lines, i))
            continue
        m = X86_PUSH_POP.match(code)
        if m:
            ind, op, sp, _reg = m.groups()
            new = f"{ind}{'subq' if op == 'pushq' else 'addq'}{sp}$8, %rsp"
            yield (f"replace {label} by `{new.strip()}`",
                   "\n".join(lines[:i] + [new] + lines[i + 1:]))
            continue
        m = A64_PAIR.match(code)
        if m:
            ind, op, sp, a, b, base, off = m.groups()
            single = "str" if op == "stp" else "ldr"
            for keep, drop, at in ((a, b, off), (b, a, f"{off}+8")):
                new = f"{ind}{single}{sp}{keep}, [{base}, #{at}]"
                yield (f"drop {drop} from {label}",
                       "\n".join(lines[:i] + [new] + lines[i + 1:]))


# General registers only: the vector registers that hold callee-saved FP state
# (xmm6-xmm15 on Windows, v8-v15 on AArch64) are clobbered by
# `clobber_abi("C")` already, because their upper bits are caller-saved, so
# removing them from the list yields the same code (an equivalent mutant).
CLOBBER = re.compile(r'out\("((?:x|r)\d+|rsi|rdi)"\) _,\s*')


def clobber_mutants(path, text):
    """Removes one register at a time from the fast path's inline-asm clobbers.
    Only the asm! blocks built for the tested target count: a block under
    `#[cfg(not(...))]` (no SSE, no FP registers) is the variant for targets
    this check does not run."""
    start = text.find("macro_rules! coroutine_site_asm")
    if start < 0:
        start = text.find("macro_rules! coroutine_switch_asm")
    end = text.find("\n}\n", start)
    if start < 0 or end < 0:
        return
    pos = start
    while True:
        block = text.find("core::arch::asm!(", pos, end)
        if block < 0:
            return
        block_end = text.find(");", block)
        cfg = text.rfind("#[cfg(", start, block)
        other = text.rfind("core::arch::asm!(", start, block)
        pos = block_end
        if cfg > other and text.startswith("#[cfg(not(", cfg):
            continue
        for m in CLOBBER.finditer(text, block, block_end):
            yield (f"{path}: fast path no longer declares {m.group(1)} clobbered "
                   f"(at byte {m.start()})",
                   text[:m.start()] + text[m.end():])


def copy_tree(dest):
    """Copies the tracked and untracked-but-not-ignored files of the checkout."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, capture_output=True).stdout.decode().split("\0")
    if os.path.isdir(dest):
        shutil.rmtree(dest)
    for f in files:
        if not f or not os.path.isfile(os.path.join(ROOT, f)):
            continue
        os.makedirs(os.path.join(dest, os.path.dirname(f)), exist_ok=True)
        # copy, not copy2: fresh mtimes, so cargo never trusts artifacts that
        # an earlier run built from a mutated file.
        shutil.copy(os.path.join(ROOT, f), os.path.join(dest, f))


def cargo_cmd(cfg, profile, target_dir, no_run):
    cmd = ["cargo", "test", "-q", "-p", "cem-ctx", "--test", "switch", "--test", "coroutine",
           "--test", "fp_control",
           "--target-dir", target_dir] + cfg["cargo"]
    if profile == "release":
        cmd.append("--release")
    if no_run:
        cmd.append("--no-run")
    return cmd


def run_profiles(cfg, tree, work, profiles, env, timeout):
    """Builds, then runs, the suites for each profile in parallel.
    Returns {profile: 'pass' | 'fail' | 'timeout' | 'build'}."""
    result = {}
    for no_run in (True, False):
        procs = {}
        for p in profiles:
            if p in result:
                continue
            log = open(os.path.join(work, f"{p}.log"), "w")
            procs[p] = (subprocess.Popen(
                cargo_cmd(cfg, p, os.path.join(work, f"target-{p}"), no_run),
                cwd=tree, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True), log)
        deadline = time.time() + timeout
        for p, (proc, log) in procs.items():
            try:
                rc = proc.wait(timeout=max(1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
                rc = None
            log.close()
            if no_run:
                if rc != 0:
                    result[p] = "build" if rc is not None else "timeout"
            else:
                result[p] = "pass" if rc == 0 else ("timeout" if rc is None else "fail")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("abi", choices=sorted(ABIS))
    ap.add_argument("--profiles", help="comma-separated; default: debug,release "
                    "(release for aarch64_aapcs64, see ABIS)")
    ap.add_argument("--list", action="store_true", help="print the mutants and exit")
    ap.add_argument("--only", action="append",
                    help="run only mutants whose description contains this (repeatable: any)")
    ap.add_argument("--timeout", type=int, default=300, help="seconds per build or test run")
    args = ap.parse_args()
    cfg = ABIS[args.abi]
    profiles = (args.profiles or cfg.get("profiles", "debug,release")).split(",")

    mutants = []
    sources = {p: open(os.path.join(ROOT, p)).read() for p in cfg["asm"]}
    macros = {}
    for text in sources.values():
        macros.update(parse_macros(text.split("\n")))
    for path, text in sources.items():
        mutants += [(path, d, t) for d, t in asm_mutants(path, text, macros)]
    rust = open(os.path.join(ROOT, cfg["rust"])).read()
    mutants += [(cfg["rust"], d, t) for d, t in clobber_mutants(cfg["rust"], rust)]
    for path, old, new, what in INIT_MUTANTS[args.abi]:
        text = open(os.path.join(ROOT, path)).read()
        if text.count(old) != 1:
            print(f"mutation list out of date: {path} does not contain exactly one {old!r}")
            return 1
        mutants.append((path, f"{path}: {what}", text.replace(old, new)))
    if args.only:
        mutants = [m for m in mutants if any(o in m[1] for o in args.only)]
    if args.list:
        for _, d, _ in mutants:
            print(d)
        print(f"{len(mutants)} mutants")
        return 0

    work = os.path.join(ROOT, "target", "mutation", args.abi)
    # The scratch tree lives outside the checkout: cargo reads .cargo/config.toml
    # from every ancestor directory and would join the two runner lists.
    tree = os.path.join(tempfile.gettempdir(), f"cem-ctx-mutation-{os.getuid()}-{args.abi}")
    os.makedirs(work, exist_ok=True)
    copy_tree(tree)
    env = dict(os.environ)
    if cfg.get("wine"):
        env.update(WINEPREFIX=os.path.join(ROOT, "target", "wine"), WINEDEBUG="-all",
                   WINEDLLOVERRIDES="mscoree,mshtml=;bcryptprimitives=n,b", WINEARCH="win64")
        env.pop("DISPLAY", None)
        subprocess.run(["bash", "-c", f'ROOT="{ROOT}"; source scripts/wine-env.sh; wine_start'],
                       cwd=ROOT, env=env, check=True)

    print(f"== {args.abi}: unmutated baseline ({', '.join(profiles)})", flush=True)
    base = run_profiles(cfg, tree, work, profiles, env, args.timeout)
    if any(v != "pass" for v in base.values()):
        print(f"the unmutated suites do not pass: {base}; logs in {work}")
        return 1

    survivors, broken = [], []
    for n, (path, desc, text) in enumerate(mutants, 1):
        original = open(os.path.join(tree, path)).read()
        with open(os.path.join(tree, path), "w") as f:
            f.write(text)
        try:
            res = run_profiles(cfg, tree, work, profiles, env, args.timeout)
        finally:
            with open(os.path.join(tree, path), "w") as f:
                f.write(original)
        verdict = ", ".join(f"{p}: {res[p]}" for p in profiles)
        if any(v == "build" for v in res.values()):
            broken.append(desc)
            tag = "DOES NOT BUILD"
        elif any(v == "pass" for v in res.values()):
            survivors.append((desc, verdict))
            tag = "SURVIVED"
        else:
            tag = "caught"
        print(f"[{n}/{len(mutants)}] {tag:>14}  {desc}  ({verdict})", flush=True)

    print(f"== {args.abi}: {len(mutants)} mutants, {len(mutants) - len(survivors) - len(broken)} "
          f"caught, {len(survivors)} survived, {len(broken)} did not build")
    for desc, verdict in survivors:
        print(f"SURVIVOR: {desc} ({verdict})")
    for desc in broken:
        print(f"DOES NOT BUILD: {desc}")
    if cfg.get("wine"):
        subprocess.run(["wineserver", "-k"], env=env)
    return 1 if survivors or broken else 0


if __name__ == "__main__":
    sys.exit(main())
