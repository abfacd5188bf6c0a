// Memory hints for the kernels, which Swift has no intrinsics for: prefetch and non-temporal
// ("streaming") stores. Swift imports these `static inline` functions and inlines them, so each
// call is one instruction in the kernel's loop.
//
// A streaming store writes its cache line to memory without first reading it (an ordinary store
// reads the line it writes: read-for-ownership), and without keeping it in the cache: for an
// output much larger than the last-level cache, memory traffic drops from input + 2·output to
// input + output (`vmovntps` of a zmm register with AVX-512, two of a ymm with AVX2 only).
// Streaming stores are weakly ordered: a thread that made them calls `crosscheck_store_fence`
// before other threads may read what it wrote.
#ifndef CROSSCHECK_MEMORY_HINTS_H
#define CROSSCHECK_MEMORY_HINTS_H

/// Asks for the cache line holding `address` to be brought into every cache level (`prefetcht0`
/// on x86). A hint: it never faults, whatever the address, and changes no result.
static inline __attribute__((always_inline)) void crosscheck_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Asks for the cache line holding `address` in the first-level cache, owned for writing
/// (`prefetchw` on x86), so that a store to it later need not wait for memory. A hint, as above.
static inline __attribute__((always_inline)) void crosscheck_prefetch_for_write(const void *address) {
    __builtin_prefetch(address, 1, 3);
}

/// 16 Floats, 64 bytes with 64-byte alignment; Swift imports it as SIMD16<Float>.
typedef float crosscheck_float16 __attribute__((ext_vector_type(16)));

/// Stores `value` at `destination`, which must be 64-byte aligned (a misaligned address faults),
/// bypassing the cache. LLVM lowers the hint for the CPU compiled for: one 512-bit, two 256-bit or
/// four 128-bit non-temporal stores.
static inline __attribute__((always_inline)) void crosscheck_stream_float16(float *destination, crosscheck_float16 value) {
    __builtin_nontemporal_store(value, (crosscheck_float16 *)destination);
}

/// 4 Floats, 16 bytes with 16-byte alignment; Swift imports it as SIMD4<Float>.
typedef float crosscheck_float4 __attribute__((ext_vector_type(4)));

/// Stores `value` at `destination`, which must be 16-byte aligned, bypassing the cache (`movntps`
/// of an xmm register).
static inline __attribute__((always_inline)) void crosscheck_stream_float4(float *destination, crosscheck_float4 value) {
    __builtin_nontemporal_store(value, (crosscheck_float4 *)destination);
}

/// Stores one Float at `destination` (4-byte aligned) bypassing the cache (`movnti`, or
/// `movntss` where the CPU has it). The processor's write-combining buffers merge such stores to
/// consecutive addresses, so a cache line filled by them is written whole, without being read.
static inline __attribute__((always_inline)) void crosscheck_stream_float(float *destination, float value) {
    __builtin_nontemporal_store(value, destination);
}

/// Orders this thread's earlier streaming stores before its later stores (`sfence` on x86), so
/// that a thread that sees the later ones sees the streamed data too.
static inline __attribute__((always_inline)) void crosscheck_store_fence(void) {
#if defined(__SSE__)
    __builtin_ia32_sfence();
#else
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

#endif
