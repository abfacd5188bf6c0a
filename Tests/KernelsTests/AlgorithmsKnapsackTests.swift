import Testing
@testable import Kernels

@Suite("Algorithms: 0/1 knapsack")
struct AlgorithmsKnapsackTests {
    /// Every variant on one instance: the optimum must agree, and the recovered items must fit
    /// and reach it.
    func checkAllVariants<T: KnapsackValue>(volumes: [Int], values: [T], capacity: Int, expected: T? = nil,
                                            sourceLocation: SourceLocation = #_sourceLocation) throws {
        let table = try knapsackTable(volumes: volumes, values: values, capacity: capacity)
        let rolling = try knapsackRolling(volumes: volumes, values: values, capacity: capacity)
        let simd = try knapsackSIMD(volumes: volumes, values: values, capacity: capacity)
        #expect(rolling == table.optimum, sourceLocation: sourceLocation)
        #expect(simd == table.optimum, sourceLocation: sourceLocation)
        if let expected { #expect(table.optimum == expected, sourceLocation: sourceLocation) }
        let selection = knapsackSelection(from: table, volumes: volumes, values: values)
        #expect(selection.volume <= capacity, sourceLocation: sourceLocation)
        #expect(selection.value == table.optimum, sourceLocation: sourceLocation)
        #expect(selection.volume == selection.items.reduce(0) { $0 + volumes[$1] }, sourceLocation: sourceLocation)
        #expect(Set(selection.items).count == selection.items.count, sourceLocation: sourceLocation)
    }

    @Test func goldenOptimaFromBruteForce() throws {
        let golden = try #require(AlgorithmsGolden.shared)
        for item in golden.knapsack {
            try checkAllVariants(volumes: item.volumes, values: item.values, capacity: item.capacity, expected: item.optimum)
            try checkAllVariants(volumes: item.volumes, values: item.values.map { Int32($0) }, capacity: item.capacity,
                                 expected: Int32(item.optimum))
        }
    }

    /// Capacities around the SIMD widths (16 Int32 lanes, 8 Int64 lanes) and volumes smaller
    /// than a vector, where the shifted load overlaps the block being written.
    @Test(arguments: [(0, 10), (1, 0), (7, 5), (12, 7), (12, 8), (12, 9), (20, 15), (20, 16), (20, 17), (30, 100), (60, 1000)])
    func variantsAgreeOnRandomInstances(shape: (Int, Int)) throws {
        let (items, capacity) = shape
        let int64: (volumes: [Int], values: [Int64]) = knapsackInstance(items: items, capacity: capacity, seed: UInt64(items * 1000 + capacity))
        try checkAllVariants(volumes: int64.volumes, values: int64.values, capacity: capacity)
        let int32: (volumes: [Int], values: [Int32]) = knapsackInstance(items: items, capacity: capacity, seed: UInt64(capacity))
        try checkAllVariants(volumes: int32.volumes, values: int32.values, capacity: capacity)
        // Small volumes: every item's shift is below one vector.
        let small = int32.volumes.map { $0 % 5 }
        try checkAllVariants(volumes: small, values: int32.values, capacity: capacity)
    }

    @Test func zeroVolumesAndOversizedItems() throws {
        try checkAllVariants(volumes: [0, 0, 3, 50], values: [Int32(4), 5, 6, 1000], capacity: 10, expected: 15)
        try checkAllVariants(volumes: [11], values: [Int64(7)], capacity: 10, expected: 0)
    }

    @Test func totalValueMustFitTheType() throws {
        let values: [Int32] = [.max / 2 + 1, .max / 2 + 1]
        #expect(throws: KnapsackError.totalValueOverflow(type: "Int32")) {
            try knapsackSIMD(volumes: [1, 1], values: values, capacity: 2)
        }
        #expect(try knapsackSIMD(volumes: [1, 1], values: values.map(Int64.init), capacity: 2) == Int64(Int32.max) + 1)
    }

    @Test func badArgumentsAreTypedErrors() {
        #expect(throws: KnapsackError.countMismatch(volumes: 2, values: 1)) { try knapsackRolling(volumes: [1, 2], values: [Int64(1)], capacity: 3) }
        #expect(throws: KnapsackError.negativeCapacity(-1)) { try knapsackRolling(volumes: [1], values: [Int64(1)], capacity: -1) }
        #expect(throws: KnapsackError.negativeVolume(index: 0, volume: -2)) { try knapsackTable(volumes: [-2], values: [Int64(1)], capacity: 3) }
        #expect(throws: KnapsackError.negativeValue(index: 1, value: -5)) { try knapsackSIMD(volumes: [1, 1], values: [Int32(1), -5], capacity: 3) }
        #expect(throws: KnapsackError.tableTooLarge(items: 1, capacity: Int.max / 2)) {
            try knapsackTable(volumes: [1], values: [Int64(1)], capacity: Int.max / 2)
        }
    }
}
