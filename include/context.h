/*
 * Drop-in name for the Cem runtime: its scheduler and tests include
 * "context.h" (or "../runtime/context.h"); with -I<cem-ctx>/include and the
 * old runtime/context.h removed, they get cem-ctx's generated header, whose
 * include guard (CEM_RUNTIME_CONTEXT_H) is the one Cem used.
 */
#include "cem_ctx.h"
