# cem-ctx gdb extension: backtraces of suspended contexts and coroutines.
#
#   (gdb) source share/gdb/cem_ctx.py
#   (gdb) cem-bt &co_ctx            # a cem_context_t * (C) or a cem_ctx::Context
#   (gdb) cem-bt reader             # a Rust cem_ctx::Coroutine (value, & or pointer)
#   (gdb) cem-bt -full &co_ctx      # with locals, like `bt full`
#   (gdb) cem-bt -table reader      # Rust: decode the frame with the table below,
#                                   # not with the debuginfo's CoroutineFrame
#
# A suspended context is not a thread, so gdb's own `bt` cannot reach it. The
# command loads the context's saved callee-saved registers, stack pointer and
# resume address into the selected thread's registers, prints gdb's normal
# backtrace from there (DWARF CFI unwinds it up to the coroutine's entry
# trampoline, whose CFI ends the walk), and puts every register back. It needs
# a live process (native, or through a gdb stub such as qemu-user's), because
# it writes registers; the program is not resumed.
#
# Supported ABIs (cem_context_t layouts from include/cem_ctx.h):
#   x86-64 System V   rsp points at the resume address; rbx, rbp, r12-r15
#   AArch64 AAPCS64   x30 is the resume address; sp; x19-x29
#   RISC-V psABI      ra is the resume address; sp; s0-s11 (RV64)
# (Windows x64 contexts hold the same kind of state, but gdb does not run
# under Wine here; see the README.)
#
# A Rust `Coroutine` (or `Yielder`, or `*mut CoroutineLink`) holds a pointer to
# the link block at the top of its stack; the block's `coroutine_sp` is the
# suspended coroutine's saved sp, where the fast path left a small frame
# (`CoroutineFrame` in src/arch/<abi>.rs). That frame is decoded from the
# debuginfo's `cem_ctx::arch::<abi>::CoroutineFrame` when the program has it,
# else with COROUTINE_FRAMES below.

import gdb

# The frame a suspended Rust coroutine leaves at CoroutineLink::coroutine_sp,
# one entry per ABI: byte offsets from coroutine_sp of the resume address
# ("pc") and of every register the suspend site keeps live in a register;
# "sp" is the stack pointer the coroutine continues with, relative to
# coroutine_sp. Only these registers need loading: the suspend site declares
# every other register clobbered, so the function around it saved the
# callee-saved ones in its own frame, where its CFI finds them.
COROUTINE_FRAMES = {
    # src/arch/x86_64_sysv.rs CoroutineFrame: resume, MXCSR/x87 CW slot, rbx, rbp.
    "x86_64": {"pc": 0, "rbx": 16, "rbp": 24, "sp": 32},
    # src/arch/aarch64_aapcs64.rs CoroutineFrame: x29 resume x19 (unused).
    "aarch64": {"pc": 8, "x29": 0, "x19": 16, "sp": 32},
    # src/arch/riscv_psabi.rs CoroutineFrame on RV64: s0 resume s1 (unused).
    "riscv": {"pc": 8, "s0": 0, "s1": 16, "sp": 32},
}

# The ABI module whose CoroutineFrame type describes the frame in DWARF.
ABI_MODULES = {"x86_64": "x86_64_sysv", "aarch64": "aarch64_aapcs64", "riscv": "riscv_psabi"}

# CoroutineFrame field names that hold the resume address.
RESUME_FIELDS = ("resume", "rip", "pc", "ra", "lr")

# Offset of CoroutineLink::coroutine_sp (after parent_sp and root_pc,
# src/arch/mod.rs), for programs without the link block's type in their
# debuginfo.
LINK_COROUTINE_SP = 16


def _arch():
    name = gdb.selected_frame().architecture().name()
    if name.startswith("i386:x86-64"):
        return "x86_64"
    if name.startswith("aarch64"):
        return "aarch64"
    if name.startswith("riscv"):
        return "riscv"
    raise gdb.GdbError("cem-bt: unsupported architecture %s" % name)


def _read_word(addr):
    # Every supported ABI is little-endian with 64-bit pointers.
    return int.from_bytes(bytes(gdb.selected_inferior().read_memory(addr, 8)), "little")


def _field(ctx, name):
    return int(ctx[name])


def _field_names(value):
    try:
        return [f.name for f in value.type.strip_typedefs().fields()]
    except TypeError:
        return []


def _saved_registers(ctx, arch):
    """The register values (name -> int) a suspended C context resumes with,
    as seen at its resume address."""
    if arch == "x86_64":
        rsp = _field(ctx, "rsp")
        resume = _read_word(rsp)
        regs = {r: _field(ctx, r) for r in ("rbx", "rbp", "r12", "r13", "r14", "r15")}
        # The switch pops the resume address: the resumed code runs with rsp
        # just above it, as after the `ret` of its call into cem_swapcontext.
        regs.update(rip=resume, rsp=rsp + 8)
        return regs
    if arch == "aarch64":
        regs = {"x%d" % n: _field(ctx, "x%d" % n) for n in range(19, 30)}
        regs.update(pc=_field(ctx, "x30"), x30=_field(ctx, "x30"), sp=_field(ctx, "sp"))
        return regs
    regs = {"s%d" % n: _field(ctx, "s%d" % n) for n in range(0, 12)}
    regs.update(pc=_field(ctx, "ra"), ra=_field(ctx, "ra"), sp=_field(ctx, "sp"))
    return regs


def _dwarf_frame(arch):
    """COROUTINE_FRAMES' entry for ARCH read from the debuginfo's
    CoroutineFrame, or None when the program lacks the type or the type
    lacks one of the entry's registers."""
    name = "cem_ctx::arch::%s::CoroutineFrame" % ABI_MODULES[arch]
    try:
        frame_type = gdb.lookup_type(name).strip_typedefs()
    except gdb.error:
        return None
    offsets = {f.name: f.bitpos // 8 for f in frame_type.fields()}
    layout = {"sp": frame_type.sizeof}
    for field in RESUME_FIELDS:
        if field in offsets:
            layout["pc"] = offsets[field]
            break
    else:
        return None
    for reg in COROUTINE_FRAMES[arch]:
        if reg in ("pc", "sp"):
            continue
        if reg not in offsets:
            return None
        layout[reg] = offsets[reg]
    return layout


def _coroutine_registers(value, arch, use_dwarf):
    """(registers, description) for a Rust Coroutine/Yielder (VALUE has a
    `link` field) or a CoroutineLink."""
    names = _field_names(value)
    status = "suspended"
    if "link" in names:
        state = str(value["state"]) if "state" in names else ""
        if state.endswith("Complete"):
            raise gdb.GdbError("cem-bt: this coroutine has completed; nothing is suspended on its stack")
        if state.endswith("Fresh"):
            status = "not started yet, will start"
        link = value["link"]
    else:
        link = value.address
    link_value = link.dereference()
    if "coroutine_sp" in _field_names(link_value):
        sp = int(link_value["coroutine_sp"])
    else:
        sp = _read_word(int(link) + LINK_COROUTINE_SP)
    layout = _dwarf_frame(arch) if use_dwarf else None
    source = "DWARF CoroutineFrame"
    if layout is None:
        layout = COROUTINE_FRAMES[arch]
        source = "cem_ctx.py table"
    regs = {reg: _read_word(sp + off) for reg, off in layout.items() if reg not in ("pc", "sp")}
    regs["pc"] = _read_word(sp + layout["pc"])
    regs["sp"] = sp + layout["sp"]
    return regs, "coroutine %s at sp 0x%x (frame layout: %s)" % (status, sp, source)


def _coroutine_bt(full, from_tty):
    """The backtrace of a suspended Rust coroutine, down to its start
    trampoline. That frame's CFI continues into the coroutine's *last*
    resumer (through the link block), which is right for a running coroutine
    but stale for a suspended one, so the walk stops there. gdb shows the
    trampoline as "<signal handler called>" (it is marked a signal frame so
    that gdb accepts a resumer stack below the coroutine stack); it is named
    here instead."""
    frame, count = gdb.newest_frame(), 0
    while frame is not None:
        count += 1
        name = frame.name() or ""
        if frame.type() == gdb.SIGTRAMP_FRAME or "_coroutine_start" in name:
            break
        frame = frame.older()
    if frame is None:
        gdb.execute("bt full" if full else "bt", from_tty=from_tty)
        return
    if count > 1:
        gdb.execute("bt %s%d" % ("full " if full else "", count - 1), from_tty=from_tty)
    symbol = gdb.execute("info symbol 0x%x" % frame.pc(), to_string=True).split(" in section")[0]
    gdb.write("#%-2d 0x%016x in %s (the coroutine's root; suspended, so no resumer below)\n"
              % (count - 1, frame.pc(), symbol.strip()))


class CemBacktrace(gdb.Command):
    """Print the backtrace of a suspended cem-ctx context or Rust coroutine.

Usage: cem-bt [-full] [-table] CONTEXT
CONTEXT is one of
  a C context: cem_context_t * or cem_context_t (e.g. &co_ctx), or the Rust
    cem_ctx::Context;
  a Rust coroutine: a cem_ctx::Coroutine or cem_ctx::Yielder, or a reference
    or pointer to one (e.g. reader, &reader), or a *mut CoroutineLink.
The context must be suspended (saved by cem_swapcontext or made by
cem_makecontext; a coroutine suspended in Yielder::suspend or not yet
started), not the one running now.
-full prints locals as `bt full` does. -table decodes a Rust coroutine's
frame with the script's COROUTINE_FRAMES table even when the program's
debuginfo describes it."""

    def __init__(self):
        super().__init__("cem-bt", gdb.COMMAND_STACK, gdb.COMPLETE_EXPRESSION)

    def invoke(self, argument, from_tty):
        full = False
        use_dwarf = True
        words = argument.split(None, 1)
        while words and words[0] in ("-full", "-table"):
            if words[0] == "-full":
                full = True
            else:
                use_dwarf = False
            words = words[1].split(None, 1) if len(words) > 1 else []
        if not words:
            raise gdb.GdbError("usage: cem-bt [-full] [-table] CONTEXT")
        ctx = gdb.parse_and_eval(" ".join(words))
        while ctx.type.strip_typedefs().code in (gdb.TYPE_CODE_PTR, gdb.TYPE_CODE_REF):
            ctx = ctx.dereference()
        if ctx.type.strip_typedefs().code != gdb.TYPE_CODE_STRUCT:
            raise gdb.GdbError("cem-bt: %s is neither a cem_context_t nor a cem-ctx Coroutine "
                               "(type %s)" % (" ".join(words), ctx.type))
        arch = _arch()
        names = _field_names(ctx)
        coroutine = "link" in names or "coroutine_sp" in names
        if coroutine:
            saved, note = _coroutine_registers(ctx, arch, use_dwarf)
            gdb.write(note + "\n")
        else:
            saved = _saved_registers(ctx, arch)
        frame = gdb.selected_frame()
        gdb.newest_frame().select()
        original = {r: int(gdb.parse_and_eval("$" + r)) for r in saved}
        try:
            for r, v in saved.items():
                gdb.execute("set $%s = %d" % (r, v), to_string=True)
            if coroutine:
                _coroutine_bt(full, from_tty)
            else:
                gdb.execute("bt full" if full else "bt", from_tty=from_tty)
        finally:
            for r, v in original.items():
                gdb.execute("set $%s = %d" % (r, v), to_string=True)
            try:
                frame.select()
            except gdb.error:
                gdb.newest_frame().select()


CemBacktrace()
