# cem-ctx gdb extension: backtraces of suspended contexts.
#
#   (gdb) source share/gdb/cem_ctx.py
#   (gdb) cem-bt &co_ctx            # a cem_context_t * (C) or a cem_ctx::Context
#   (gdb) cem-bt -full &co_ctx      # with locals, like `bt full`
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
#   RISC-V psABI      ra is the resume address; sp; s0-s11
# (Windows x64 contexts hold the same kind of state, but gdb does not run
# under Wine here; see the README.)

import gdb


def _arch():
    name = gdb.selected_frame().architecture().name()
    if name.startswith("i386:x86-64"):
        return "x86_64"
    if name.startswith("aarch64"):
        return "aarch64"
    if name.startswith("riscv"):
        return "riscv"
    raise gdb.GdbError("cem-bt: unsupported architecture %s" % name)


def _field(ctx, name):
    return int(ctx[name])


def _saved_registers(ctx, arch):
    """The register values (name -> int) a suspended context resumes with,
    as seen at its resume address."""
    if arch == "x86_64":
        rsp = _field(ctx, "rsp")
        inferior = gdb.selected_inferior()
        resume = int.from_bytes(bytes(inferior.read_memory(rsp, 8)), "little")
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


class CemBacktrace(gdb.Command):
    """Print the backtrace of a suspended cem-ctx context.

Usage: cem-bt [-full] CONTEXT
CONTEXT is an expression of type cem_context_t * (or cem_context_t), e.g.
&co_ctx. The context must be suspended (saved by cem_swapcontext or made by
cem_makecontext), not the one running now."""

    def __init__(self):
        super().__init__("cem-bt", gdb.COMMAND_STACK, gdb.COMPLETE_EXPRESSION)

    def invoke(self, argument, from_tty):
        full = False
        argument = argument.strip()
        if argument.startswith("-full"):
            full = True
            argument = argument[len("-full"):].strip()
        if not argument:
            raise gdb.GdbError("usage: cem-bt [-full] CONTEXT")
        ctx = gdb.parse_and_eval(argument)
        if ctx.type.strip_typedefs().code == gdb.TYPE_CODE_PTR:
            ctx = ctx.dereference()
        arch = _arch()
        saved = _saved_registers(ctx, arch)
        frame = gdb.selected_frame()
        gdb.newest_frame().select()
        original = {r: int(gdb.parse_and_eval("$" + r)) for r in saved}
        try:
            for r, v in saved.items():
                gdb.execute("set $%s = %d" % (r, v), to_string=True)
            gdb.execute("bt full" if full else "bt", from_tty=from_tty)
        finally:
            for r, v in original.items():
                gdb.execute("set $%s = %d" % (r, v), to_string=True)
            try:
                frame.select()
            except gdb.error:
                gdb.newest_frame().select()


CemBacktrace()
