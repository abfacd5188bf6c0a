import CMemoryHints

/// The register vector of the upsampling kernels: 16 Floats, one AVX-512 register.
typealias FloatVector = SIMD16<Float>

extension UnsafePointer where Pointee == Float {
    /// 16 Floats from `self`, any alignment.
    @inline(__always) func loadVector() -> FloatVector {
        UnsafeRawPointer(self).loadUnaligned(as: FloatVector.self)
    }
}

extension UnsafeMutablePointer where Pointee == Float {
    /// Stores 16 Floats at `self`, any alignment.
    @inline(__always) func storeVector(_ vector: FloatVector) {
        UnsafeMutableRawPointer(self).storeBytes(of: vector, as: FloatVector.self)
    }

    /// Stores 16 Floats at `self`, which must be 64-byte aligned, with a non-temporal store: the
    /// cache line is written to memory without being read first or kept in the cache. The
    /// storing thread must call `streamingStoresFence()` before another thread reads it.
    @inline(__always) func streamVector(_ vector: FloatVector) {
        crosscheck_stream_float16(self, vector)
    }

    /// Stores 4 Floats at `self`, which must be 16-byte aligned, with a non-temporal store (see
    /// `streamVector`).
    @inline(__always) func streamQuarterVector(_ vector: SIMD4<Float>) {
        crosscheck_stream_float4(self, vector)
    }

    /// Stores one Float at `self` with a non-temporal store (see `streamVector`).
    @inline(__always) func streamScalar(_ value: Float) {
        crosscheck_stream_float(self, value)
    }
}

/// Orders the calling thread's earlier `streamVector` stores before its later stores (`sfence`).
@inline(__always) func streamingStoresFence() {
    crosscheck_store_fence()
}

/// Writes destination[e] for e < count: `vector(e)` (elements e..<e + 16) where a vector fits,
/// `scalar(e)` elsewhere, with ordinary stores, or with non-temporal ones when `streaming`: then
/// whole vectors from the first 64-byte boundary on, and the partial cache lines before and
/// after them (a row's last partial line is the next row's first) with ordinary stores, or
/// with `streamPartialLines` streamed in 16-byte quarters where aligned and single Floats
/// elsewhere (at most 3 at each end).
///
/// Which is faster for the partial lines was measured, not derived (8×3×512×512, ×2, one
/// thread): bilinear rows spent a quarter of their time in the ordinary stores there (6.4
/// against 8.9 ms streamed), a nearest copy 12% more time in the streamed ones (5.0 against
/// 5.7 ms ordinary), also when two repeated rows were streamed as one.
@inline(__always)
func writeRow(count: Int, to destination: UnsafeMutablePointer<Float>, streaming: Bool, streamPartialLines: Bool,
              vector: (Int) -> FloatVector, scalar: (Int) -> Float) {
    var e = 0
    @inline(__always) func writePartialLine(upTo end: Int) {
        if !streaming || !streamPartialLines {
            while e < end {
                destination[e] = scalar(e)
                e += 1
            }
            return
        }
        while e < end && Int(bitPattern: destination + e) & 15 != 0 {
            (destination + e).streamScalar(scalar(e))
            e += 1
        }
        while e + 4 <= end {
            (destination + e).streamQuarterVector(SIMD4(scalar(e), scalar(e + 1), scalar(e + 2), scalar(e + 3)))
            e += 4
        }
        while e < end {
            (destination + e).streamScalar(scalar(e))
            e += 1
        }
    }
    if streaming {
        let bytesToBoundary = (64 - (Int(bitPattern: destination) & 63)) & 63
        writePartialLine(upTo: min(bytesToBoundary / MemoryLayout<Float>.stride, count))
        while e + FloatVector.scalarCount <= count {
            (destination + e).streamVector(vector(e))
            e += FloatVector.scalarCount
        }
    } else {
        while e + FloatVector.scalarCount <= count {
            (destination + e).storeVector(vector(e))
            e += FloatVector.scalarCount
        }
    }
    writePartialLine(upTo: count)
}

/// Interleaves two vectors, a₀ b₀ a₁ b₁ … a₁₅ b₁₅, and stores the 32 Floats at `destination`.
/// The element-wise construction compiles to two `vpermt2ps` (checked in the assembly).
@inline(__always)
func storeInterleaved(_ a: FloatVector, _ b: FloatVector, to destination: UnsafeMutablePointer<Float>) {
    destination.storeVector(FloatVector(
        a[0], b[0], a[1], b[1], a[2], b[2], a[3], b[3], a[4], b[4], a[5], b[5], a[6], b[6], a[7], b[7]))
    (destination + 16).storeVector(FloatVector(
        a[8], b[8], a[9], b[9], a[10], b[10], a[11], b[11], a[12], b[12], a[13], b[13], a[14], b[14], a[15], b[15]))
}

/// Interleaves three vectors, a₀ b₀ c₀ a₁ b₁ c₁ … c₁₅, and stores the 48 Floats at
/// `destination`. Compiles to permutes and blends (about 60 instructions per 48 Floats: still
/// faster than memory).
@inline(__always)
func storeInterleaved(_ a: FloatVector, _ b: FloatVector, _ c: FloatVector, to destination: UnsafeMutablePointer<Float>) {
    destination.storeVector(FloatVector(
        a[0], b[0], c[0], a[1], b[1], c[1], a[2], b[2], c[2], a[3], b[3], c[3], a[4], b[4], c[4], a[5]))
    (destination + 16).storeVector(FloatVector(
        b[5], c[5], a[6], b[6], c[6], a[7], b[7], c[7], a[8], b[8], c[8], a[9], b[9], c[9], a[10], b[10]))
    (destination + 32).storeVector(FloatVector(
        c[10], a[11], b[11], c[11], a[12], b[12], c[12], a[13], b[13], c[13], a[14], b[14], c[14], a[15], b[15], c[15]))
}
