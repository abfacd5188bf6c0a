// Memory hints for the kernels, which Swift has no intrinsics for. Swift imports these
// `static inline` functions and inlines them: each call is one instruction in the kernel's loop.
#ifndef CROSSCHECK_MEMORY_HINTS_H
#define CROSSCHECK_MEMORY_HINTS_H

/// Asks for the cache line holding `address` to be brought into every cache level (`prefetcht0`
/// on x86). A hint: it never faults, whatever the address, and changes no result.
static inline __attribute__((always_inline)) void crosscheck_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
