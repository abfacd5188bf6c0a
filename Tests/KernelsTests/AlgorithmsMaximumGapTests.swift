import Testing
@testable import Kernels

@Suite("Algorithms: maximum gap")
struct AlgorithmsMaximumGapTests {
    /// All three algorithms on one array: their answers, which must be equal.
    func gaps<T: MaximumGapElement>(_ values: [T]) throws -> [T.Gap] {
        try values.withUnsafeBufferPointer { v in
            [try maximumGapBySorting(v), try maximumGapByBuckets(v), try maximumGapByRadixSort(v)]
        }
    }

    @Test func goldenGapsFromPythonSorted() throws {
        let golden = try #require(AlgorithmsGolden.shared)
        for item in golden.maximumGap {
            switch item.values {
            case .int32(let values, let gap): #expect(try gaps(values) == [gap, gap, gap], "\(values)")
            case .int64(let values, let gap): #expect(try gaps(values) == [gap, gap, gap], "\(values)")
            case .float(let values, let gap): #expect(try gaps(values) == [gap, gap, gap], "\(values)")
            }
        }
    }

    @Test(arguments: MaximumGapInput.allCases, [0, 1, 2, 3, 10, 257, 5000])
    func algorithmsAgree(kind: MaximumGapInput, count: Int) throws {
        let seed = UInt64(count) &* 31 &+ UInt64(MaximumGapInput.allCases.firstIndex(of: kind)!)
        let int32: [Int32] = maximumGapInput(kind, count: count, seed: seed)
        let int64: [Int64] = maximumGapInput(kind, count: count, seed: seed)
        let float: [Float] = maximumGapInput(kind, count: count, seed: seed)
        for result in [try gaps(int32).map(UInt64.init), try gaps(int64)] {
            #expect(Set(result).count == 1, "\(kind) n=\(count): \(result)")
        }
        let floatGaps = try gaps(float)
        #expect(Set(floatGaps).count == 1, "\(kind) n=\(count): \(floatGaps)")
        if count >= 2 && kind != .duplicates { #expect(floatGaps[0] > 0) }
    }

    /// Max − min = 2⁶⁴ − 1 does not fit Int64; the buckets compute it on unsigned keys.
    @Test func extremeIntegersDoNotOverflow() throws {
        #expect(try gaps([Int64.max, Int64.min]) == [UInt64.max, UInt64.max, UInt64.max])
        #expect(try gaps([Int64.min, -1, 0, Int64.max]) == [UInt64(Int64.max), UInt64(Int64.max), UInt64(Int64.max)])
        #expect(try gaps([Int32.min, Int32.max, 0]) == [1 << 31, 1 << 31, 1 << 31])
    }

    /// Equally spaced values make every gap equal to the average, the pigeonhole argument's
    /// limit: a bucket rule off by one rounding would split or merge the wrong pair.
    @Test(arguments: [0.1, 1.0 / 3, 1e-3, 7.77])
    func equallySpacedFloats(step: Double) throws {
        let values = (0..<3001).map { Float(Double($0) * step) }
        let result = try gaps(values.reversed())
        #expect(Set(result).count == 1, "\(result)")
        let ints = (0..<3001).map { Int64($0) * 1_000_003 - 1_500_000_000 }
        #expect(try gaps(ints.reversed()) == [1_000_003, 1_000_003, 1_000_003])
    }

    @Test func sameValuesAndSignedZeros() throws {
        #expect(try gaps([Float](repeating: 2.5, count: 100)) == [0, 0, 0])
        #expect(try gaps([Float(-0.0), 0.0, -0.0]) == [0, 0, 0])
        #expect(try gaps([Float(-1), -0.0, 0.0, 3]) == [3, 3, 3])
    }

    @Test func nonFiniteValuesAreRejected() {
        for bad in [[Float(1), .nan, 2], [Float(0), -.infinity]] {
            bad.withUnsafeBufferPointer { v in
                #expect(throws: MaximumGapError.self) { try maximumGapBySorting(v) }
                #expect(throws: MaximumGapError.self) { try maximumGapByBuckets(v) }
                #expect(throws: MaximumGapError.self) { try maximumGapByRadixSort(v) }
            }
        }
        [Float(1), 2, .nan].withUnsafeBufferPointer { v in
            #expect(throws: MaximumGapError.notANumber(index: 2)) { try maximumGapByBuckets(v) }
        }
        #expect(MaximumGapError.infinite(index: 1, value: -.infinity).description.contains("values[1]"))
    }

    @Test func orderKeysPreserveOrder() {
        let floats: [Float] = [-.greatestFiniteMagnitude, -1, -.leastNonzeroMagnitude, -0.0, 0, .leastNonzeroMagnitude, 1, .greatestFiniteMagnitude]
        #expect(zip(floats, floats.dropFirst()).allSatisfy { $0.orderKey < $1.orderKey })
        #expect(floats.allSatisfy { Float(orderKey: $0.orderKey).bitPattern == $0.bitPattern })
        let ints: [Int64] = [.min, -1, 0, 1, .max]
        #expect(zip(ints, ints.dropFirst()).allSatisfy { $0.orderKey < $1.orderKey })
        #expect(ints.allSatisfy { Int64(orderKey: $0.orderKey) == $0 })
    }
}
