import Foundation
import Kernels
import SafeTensors

/// One module of an adapter checked by `verifyAdapter`.
public struct VerificationRow: Sendable, Equatable {
    public let module: String
    /// ‖ΔW − stored‖_F / ‖ΔW‖_F, the adapter reloaded from disk (for a tensor saved whole,
    /// ‖W_saved − W_tuned‖_F / ‖W_tuned‖_F).
    public let relativeError: Double
    /// The Eckart–Young optimum at the module's rank (0 for a tensor saved whole).
    public let optimalRelativeError: Double
    /// The error allowed: factor × optimum + the rounding allowance (see `verifyAdapter`).
    public let allowed: Double

    public var passed: Bool { relativeError <= allowed }
}

/// `lora extract --verify`: reloads the adapter written at `directory` and, for each module,
/// recomputes its relative error against the true delta (read again from the models) and
/// compares it with the optimum.
///
/// A module passes when its error is at most factor × optimum + rounding, where the rounding
/// allowance is what storing and computing in finite precision may add to the optimum (by the
/// triangle inequality the two add at worst):
/// - storage: each stored factor entry is rounded to its dtype (unit roundoff u_d: 2⁻²⁴ F32,
///   2⁻¹¹ F16, 2⁻⁸ BF16), so |ΔB·A + B·ΔA| ≤ 2u_d·|B||A| elementwise, and
///   ‖|B||A|‖_F ≤ ‖B‖_F‖A‖_F: 2u_d·scale·‖B‖_F‖A‖_F / ‖ΔW‖_F;
/// - computation in Float (forming ΔW, the SVD's backward error, the product): 8·√max(m, n)·u
///   with u = 2⁻²⁴, which is what such errors sum to when they are independent.
/// A tensor saved whole passes when ‖W_saved − W_tuned‖ ≤ u_d·‖W_tuned‖ (rounding to nearest).
///
/// The optimum is the report's when the extraction computed the whole spectrum (or the exact
/// top triplets); otherwise (randomized) it is computed here from the exact top-r singular values
/// (the Double Gram route, or LAPACK's SVD): one extra O(m·n·min(m, n)) pass for such modules.
/// - Throws: `AdapterError.verificationFailed` listing every module beyond its allowance.
public func verifyAdapter(at directory: String, base: SafeTensorsModel, tuned: SafeTensorsModel, rows: [ExtractionReport.Row],
                          factor: Double, threads: Int, log: (String) -> Void) throws -> [VerificationRow] {
    let adapter = try LoadedAdapter(directory: directory)
    let reported = Dictionary(rows.map { ($0.module, $0) }, uniquingKeysWith: { first, _ in first })
    var results: [VerificationRow] = []
    for module in adapter.moduleNames.sorted() {
        let name = base.shardOf[module + ".weight"] != nil ? module + ".weight" : module
        let info = try base.info(name)
        let (delta, _, _) = try readDelta(name, base: base, tuned: tuned, wide: info.dtype == .f64)
        let pair = try adapter.pair(module)
        let error = delta.withUnsafeBufferPointer { pair.relativeError(against: $0, threads: threads) }
        let (m, n) = (info.shape[0], info.shape[1])
        let optimum = try reported[module]?.optimalRelativeError ?? optimalRelativeError(delta, m: m, n: n, rank: pair.rank, threads: threads)
        let deltaNorm = sumOfSquares(delta).squareRoot()
        let storedDType = adapter.file.info(PEFTAdapter.factorKeys(module: module, embedding: adapter.isEmbedding(module)).a)!.dtype
        let factorNorms = norm(pair.a) * norm(pair.b) * abs(pair.scale)
        let storage = deltaNorm > 0 ? 2 * unitRoundoff(storedDType) * factorNorms / deltaNorm : 0
        let computation = 8 * Double(max(m, n)).squareRoot() * unitRoundoff(.f32)
        results.append(VerificationRow(module: module, relativeError: error, optimalRelativeError: optimum,
                                       allowed: factor * optimum + storage + computation))
    }
    for name in adapter.wholeNames.sorted() {
        let saved = try adapter.whole(name)!, target = try tuned.file(for: name).floats(name)
        let difference = zip(saved, target).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }.squareRoot()
        let key = adapter.wholeKey(name)!
        let allowed = unitRoundoff(adapter.file.info(key)!.dtype) * (1 + 1e-6) * norm(target)
        results.append(VerificationRow(module: name, relativeError: difference / max(norm(target), .leastNormalMagnitude),
                                       optimalRelativeError: 0, allowed: allowed / max(norm(target), .leastNormalMagnitude)))
    }
    for row in results {
        log(String(format: "verify %@: relative error %.6g, optimum %.6g, allowed %.6g%@", row.module, row.relativeError,
                   row.optimalRelativeError, row.allowed, row.passed ? "" : "  FAILED"))
    }
    let failures = results.filter { !$0.passed }.map {
        VerificationFailure(module: $0.module, relativeError: $0.relativeError, optimalRelativeError: $0.optimalRelativeError, allowedFactor: factor)
    }
    if !failures.isEmpty { throw AdapterError.verificationFailed(adapter: directory, modules: failures) }
    return results
}

/// √(Σ_{i>r} σ_i²) / ‖ΔW‖_F, from the exact top-r singular values.
func optimalRelativeError(_ delta: [Float], m: Int, n: Int, rank: Int, threads: Int) throws -> Double {
    let squaredNorm = sumOfSquares(delta)
    guard squaredNorm > 0, rank < min(m, n) else { return 0 }
    if let top = try exactTopTriplets(delta, m: m, n: n, rank: rank, squaredNorm: squaredNorm, threads: threads) {
        return (top.optimalSquared / squaredNorm).squareRoot()
    }
    let sigma = try delta.withUnsafeBufferPointer { try lapackSVD($0.baseAddress!, m: m, n: n, threads: threads) }.singularValues
    return (sigma.dropFirst(rank).reduce(0.0) { $0 + Double($1) * Double($1) } / squaredNorm).squareRoot()
}

/// The unit roundoff of a floating-point storage type (half the spacing of numbers near 1).
func unitRoundoff(_ dtype: DType) -> Double {
    switch dtype {
    case .f64: return 0x1p-53
    case .f16: return 0x1p-11
    case .bf16: return 0x1p-8
    default: return 0x1p-24
    }
}

func norm(_ values: [Float]) -> Double { sumOfSquares(values).squareRoot() }
