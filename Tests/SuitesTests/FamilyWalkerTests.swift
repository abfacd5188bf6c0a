import Crosscheck
import Testing
import Suites

/// One case of a family at its test sizes, named for the test report.
struct WalkedCase: CustomTestStringConvertible, Sendable {
    let testCase: Case
    var testDescription: String { "\(testCase.kernel) \(testCase.dtype.rawValue) \(testCase.shape)" }
}

/// The one walker over every family: each case at the family's test sizes, each variant verified
/// on 1, 2 and 3 threads (threaded ones) through the same runner and error models `bench` uses.
/// A new family is walked by being in `Suites.all`; nothing here names one.
@Suite("Every family at its test sizes")
struct FamilyWalkerTests {
    static let cases: [WalkedCase] = Suites.all.flatMap { family in
        ((try? family.cases(at: .test)) ?? []).map(WalkedCase.init)
    }

    @Test func everyFamilyHasTestCases() throws {
        for family in Suites.all {
            #expect(try !family.cases(at: .test).isEmpty, "\(family.name) has no test cases")
        }
    }

    @Test(arguments: cases)
    func everyVariantPassesItsErrorModel(_ walked: WalkedCase) {
        let rows = walked.testCase.verifyAll(threads: [1, 2, 3])
        #expect(!rows.isEmpty)
        for row in rows {
            let expectsFailure = walked.testCase.variants.first { $0.name == row.variant }?.expectation.failureReason != nil
            let allowed: Set<Status> = expectsFailure ? [.xfail, .verified] : [.verified, .skipped]
            #expect(allowed.contains(row.status),
                    "\(row.variant) threads=\(row.threads): \(row.status.rawValue), err_ratio \(row.verification?.errRatio ?? .nan) > \(row.verification?.errBound ?? .nan) at \(row.verification?.worst ?? "?"); \(row.note)")
            if row.status == .skipped { #expect(!row.note.isEmpty, "\(row.variant) skipped without a reason") }
        }
    }
}
