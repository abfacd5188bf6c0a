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
