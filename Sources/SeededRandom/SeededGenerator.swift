/// A small, fast, seedable random number generator (xoshiro256**), so that the same seed gives
/// the same inputs on every machine and every run.
///
/// The state is expanded from the seed with SplitMix64, as the xoshiro authors recommend.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = rotl(state.1 &* 5, 7) &* 9
        let t = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= t
        state.3 = rotl(state.3, 45)
        return result
    }

    private func rotl(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// A uniform sample in [-1, 1).
    public mutating func nextSigned() -> Double {
        Double(next() >> 11) * 0x1p-52 - 1
    }

    /// A standard normal sample (Box–Muller; one of the pair is discarded for simplicity).
    public mutating func nextGaussian() -> Double {
        var u1 = 0.0
        repeat { u1 = Double(next() >> 11) * 0x1p-53 } while u1 == 0
        let u2 = Double(next() >> 11) * 0x1p-53
        return (-2 * _log(u1)).squareRoot() * _cos(2 * Double.pi * u2)
    }
}

#if canImport(Glibc)
import Glibc
private func _log(_ x: Double) -> Double { Glibc.log(x) }
private func _cos(_ x: Double) -> Double { Glibc.cos(x) }
#else
import Foundation
private func _log(_ x: Double) -> Double { Foundation.log(x) }
private func _cos(_ x: Double) -> Double { Foundation.cos(x) }
#endif

extension Array where Element: BinaryFloatingPoint {
    /// `count` values uniform in [-1, 1), from `generator`.
    public static func uniform(count: Int, using generator: inout SeededGenerator) -> [Element] {
        (0..<count).map { _ in Element(generator.nextSigned()) }
    }

    /// `count` standard normal values, from `generator`.
    public static func gaussian(count: Int, using generator: inout SeededGenerator) -> [Element] {
        (0..<count).map { _ in Element(generator.nextGaussian()) }
    }
}
