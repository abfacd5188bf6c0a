import Testing
@testable import Crosscheck

@Suite("Error models")
struct ErrorModelTests {
    let u = Double(Float.ulpOfOne) / 2

    @Test func gammaRatioMatchesDefinition() {
        #expect(ErrorModels.gammaRatio(10, unitRoundoff: u) == 10 / (1 - 10 * u))
        #expect(ErrorModels.gammaRatio(1 << 30, unitRoundoff: 0.5).isInfinite)
    }

    @Test func exactOutputPasses() {
        let v = ErrorModels.scaledForwardError(
            computed: [1, 2, 3], reference: [1, 2, 3], scale: [1, 2, 3], unitRoundoff: u, bound: 4,
            model: "test", describe: { "x[\($0)]" })
        #expect(v.passed && v.errRatio == 0)
    }

    @Test func errorWithinBoundPassesAndBeyondFails() {
        let within = ErrorModels.scaledForwardError(
            computed: [1 + 3 * u], reference: [1], scale: [1], unitRoundoff: u, bound: 4,
            model: "test", describe: { "x[\($0)]" })
        #expect(within.passed)
        #expect(abs(within.errRatio - 3) < 1e-6)
        let beyond = ErrorModels.scaledForwardError(
            computed: [1, 2 + 10 * u * 2], reference: [1, 2], scale: [1, 2], unitRoundoff: u, bound: 4,
            model: "test", describe: { "x[\($0)]" })
        #expect(!beyond.passed)
        #expect(beyond.worst == "x[1]")
    }

    @Test func allZeroOutputFailsEvenWithHugeBound() {
        let v = ErrorModels.scaledForwardError(
            computed: [0, 0], reference: [1e-30, 0], scale: [1, 1], unitRoundoff: u, bound: .greatestFiniteMagnitude,
            model: "test", describe: { "x[\($0)]" })
        #expect(!v.passed)
        #expect(v.note.contains("all zero"))
    }

    @Test func nanFails() {
        let v = ErrorModels.scaledForwardError(
            computed: [1, .nan], reference: [1, 2], scale: [1, 2], unitRoundoff: u, bound: 1e30,
            model: "test", describe: { "x[\($0)]" })
        #expect(!v.passed)
        #expect(v.worst == "x[1]")
    }

    @Test func nonzeroErrorWhereScaleIsZeroFails() {
        let v = ErrorModels.scaledForwardError(
            computed: [1e-300], reference: [0], scale: [0], unitRoundoff: u, bound: 1e30,
            model: "test", describe: { "x[\($0)]" })
        #expect(!v.passed)
    }

    @Test func torchDefaultFallback() {
        #expect(ErrorModels.torchDefault(computed: [1 + 1e-6], reference: [1], isDouble: false, describe: { "\($0)" }).passed)
        #expect(!ErrorModels.torchDefault(computed: [1 + 1e-4], reference: [1], isDouble: false, describe: { "\($0)" }).passed)
        #expect(!ErrorModels.torchDefault(computed: [1 + 1e-6], reference: [1], isDouble: true, describe: { "\($0)" }).passed)
    }
}
