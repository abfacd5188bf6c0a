import TestSupport

/// The golden data of `reference/algorithms/golden.json` (written by
/// `reference/algorithms/make_golden.py`: brute force, itertools, NumPy and exact fractions).
struct AlgorithmsGolden: Decodable {
    struct MaximumGapCase: Decodable {
        enum Values { case int32([Int32], UInt32), int64([Int64], UInt64), float([Float], Double) }
        let values: Values

        enum Keys: String, CodingKey { case type, values, gap }
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: Keys.self)
            switch try c.decode(String.self, forKey: .type) {
            case "int32": values = .int32(try c.decode([Int32].self, forKey: .values), try c.decode(UInt32.self, forKey: .gap))
            case "int64": values = .int64(try c.decode([Int64].self, forKey: .values), try c.decode(UInt64.self, forKey: .gap))
            default: values = .float(try c.decode([Float].self, forKey: .values), try c.decode(Double.self, forKey: .gap))
            }
        }
    }

    struct KnapsackCase: Decodable {
        let volumes: [Int], values: [Int64], capacity: Int, optimum: Int64
    }

    struct CombinationCase: Decodable {
        let rule: String, candidates: [Int], target: Int, combinations: [[Int]]
    }

    struct MRPCase: Decodable {
        let states: Int, discount: Double, transitions: [Double], rewards: [Double], values: [Double]
        let featureCount: Int, features: [Double], fixedPoint: [Double]
    }

    struct PredicateCase: Decodable {
        let points: [[String]], sign: Int8
        /// The points, parsed from their hexadecimal form (exact).
        var parsed: [SIMD2<Double>] { points.map { SIMD2(Double($0[0])!, Double($0[1])!) } }
    }

    let maximumGap: [MaximumGapCase]
    let knapsack: [KnapsackCase]
    let combinations: [CombinationCase]
    let mrp: [MRPCase]
    let orientation: [PredicateCase]
    let inCircle: [PredicateCase]

    static let shared: AlgorithmsGolden? = loadReference("reference/algorithms/golden.json", as: AlgorithmsGolden.self)
}
