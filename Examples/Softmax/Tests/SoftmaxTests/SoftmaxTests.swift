import Crosscheck
import Testing
@testable import softmax_bench

/// The same checks `softmax-bench` runs, as tests: every variant but `unstable` passes at every
/// quick size; `unstable` passes on small logits and fails on large ones.
@Test func variantsAgainstTheErrorModel() throws {
    for testCase in try SoftmaxSuite.family.cases(at: .quick) {
        for row in testCase.verifyAll() {
            let largeLogits = testCase.shape.hasSuffix(":100")
            let shouldFail = row.variant == "unstable" && largeLogits
            #expect((row.status == .fail) == shouldFail, "\(row.variant) \(row.shape): \(row.status) \(row.note)")
        }
    }
}
