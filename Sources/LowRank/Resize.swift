import Foundation
import Kernels
import SafeTensors

/// How `resizeAdapter` chooses each module's new rank from the singular values σ₁ ≥ σ₂ ≥ … of
/// its product P = scale·B·A (padded with zeros to min(m, n) values, as a dense SVD gives them).
public enum ResizeRule: Sendable, Equatable {
    /// This rank (capped by the module's rank).
    case rank(Int)
    /// The smallest rank keeping this fraction of ‖P‖²_F = Σσ_i² (as `lora extract --energy`).
    case energy(Double)
    /// kohya-ss sd-scripts `networks/resize_lora.py`, `sv_ratio`: keep the σ_i > σ₁/ratio.
    case svRatio(Double)
    /// kohya's `sv_fro`: keep a fraction of the Frobenius norm, √(Σ_{i≤k}σ_i²/Σσ_i²) ≥ target.
    case svFro(Double)
    /// kohya's `sv_cumulative`: keep a fraction of the sum of the singular values.
    case svCumulative(Double)

    /// The new rank for singular values `sigma` (descending, min(m, n) of them, zeros past the
    /// old rank), capped by `cap`.
    ///
    /// The kohya rules are reproduced exactly, quirks included (resize_lora.py, rank_resize and
    /// index_sv_*): the index found is clamped to 1…len−1 and then 1 is added, so a kohya rank is
    /// one more than the smallest rank meeting the target; a zero matrix (σ₁ ≤ 10⁻⁶) gets rank 1;
    /// the result is capped by the maximum rank (kohya's --new_rank). Here the cap is also the
    /// module's old rank, beyond which every σ is zero.
    func newRank(_ sigma: [Double], cap: Int) -> Int {
        let length = sigma.count
        func clampedPlusOne(_ index: Int) -> Int { max(1, min(index, length - 1)) + 1 }
        /// torch.searchsorted (side left) in the running sums of `values` normalised by their
        /// total: the first index where the running fraction reaches `target`.
        func firstReaching(_ values: [Double], _ target: Double) -> Int {
            let total = values.reduce(0, +)
            var running = 0.0
            for (index, value) in values.enumerated() {
                running += value
                if running / total >= target { return index }
            }
            return values.count
        }
        let squares = sigma.map { $0 * $0 }
        let rank: Int
        switch self {
        case .rank(let r):
            rank = r
        case .energy(let fraction):
            let total = squares.reduce(0, +)
            var kept = 0.0, smallest = length
            for (index, square) in squares.enumerated() {
                kept += square
                if total == 0 || energyReached(kept / total, fraction, k: length) { smallest = index + 1; break }
            }
            rank = smallest
        case .svRatio(let ratio):
            let minimum = sigma[0] / ratio
            rank = clampedPlusOne(sigma.filter { $0 > minimum }.count)
        case .svFro(let target):
            rank = clampedPlusOne(firstReaching(squares, target * target) + 1)
        case .svCumulative(let target):
            rank = clampedPlusOne(firstReaching(sigma, target) + 1)
        }
        if sigma[0] <= 1e-6 { return 1 }
        return max(1, min(rank, cap))
    }
}

/// What `resizeAdapter` needs; the `lora resize` options.
public struct ResizeOptions: Sendable {
    public var adapter: String, out: String
    public var rule: ResizeRule
    /// Cap on every module's new rank (kohya's --new_rank for the dynamic rules).
    public var maxRank: Int?
    /// Stored dtype of the new factors; nil: each module keeps its own.
    public var dtype: DType?
    public var force: Bool
    public var threads: Int

    public init(adapter: String, out: String, rule: ResizeRule, maxRank: Int? = nil, dtype: DType? = nil, force: Bool = false, threads: Int = 1) {
        self.adapter = adapter
        self.out = out
        self.rule = rule
        self.maxRank = maxRank
        self.dtype = dtype
        self.force = force
        self.threads = threads
    }
}

/// `lora_resize_report.csv`: one row per resized module.
public enum ResizeReport {
    public static let fileName = "lora_resize_report.csv"

    public struct Row: Sendable, Equatable {
        public var module: String
        public var oldRank: Int, newRank: Int
        /// Σ_{i≤k}σ_i² / Σσ_i² (the energy kept).
        public var retainedEnergy: Double
        /// kohya's `fro_retained`, √retainedEnergy.
        public var froRetained: Double { retainedEnergy.squareRoot() }
        /// kohya's `sum_retained`, Σ_{i≤k}σ_i / Σσ_i.
        public var sumRetained: Double
        /// kohya's `max_ratio`, σ₁/σ_k.
        public var maxRatio: Double
        /// ‖P − P_new‖_F / ‖P‖_F, P_new as stored in the new adapter.
        public var relativeError: Double
        /// √(Σ_{i>k}σ_i²) / ‖P‖_F, the Eckart–Young optimum at k.
        public var optimalRelativeError: Double
        public var sigma: [Double]
    }

    public static let columns = ReportColumns<Row>(columns: [
        ("module", { $0.module }),
        ("old_rank", { String($0.oldRank) }),
        ("new_rank", { String($0.newRank) }),
        ("retained_energy", { format($0.retainedEnergy) }),
        ("fro_retained", { format($0.froRetained) }),
        ("sum_retained", { format($0.sumRetained) }),
        ("max_ratio", { format($0.maxRatio) }),
        ("relative_error", { format($0.relativeError) }),
        ("optimal_relative_error", { format($0.optimalRelativeError) }),
        ("sigma_1", { format($0.sigma.first ?? 0) }),
        ("sigma_k_plus_1", { $0.newRank < $0.sigma.count ? format($0.sigma[$0.newRank]) : "" }),
    ])
}

/// The exact SVD of a stored pair's product P = scale·B·A (B m × r, A r × n) without forming P:
/// thin QR of B and of Aᵀ (B = Q_B·R_B, Aᵀ = Q_A·R_A), the r × r core C = scale·R_B·R_Aᵀ
/// decomposed in Double, then U = Q_B·U_C and V = Q_A·V_C, since P = Q_B·C·Q_Aᵀ.
///
/// - Complexity: O((m + n)·r²) for the QRs and the products, O(r³) for the core; memory
///   O((m + n)·r). When r exceeds min(m, n) the product is formed and decomposed directly.
/// - Error: backward stable: the result is the exact SVD of P + E with ‖E‖ of order
///   u·scale·‖B‖‖A‖ (Householder QR and the products in Float, the core in Double).
/// - Returns: w = min(r, m, n) singular values (descending) in Double, U (m × w) and Vᵀ (w × n)
///   in Float: a product of rank r larger than a side of P has only min(m, n) of them.
public func productSVD(_ pair: StoredPair, threads: Int = 1) throws -> (sigma: [Double], u: [Float], vt: [Float]) {
    let (m, n, r) = (pair.rows, pair.columns, pair.rank)
    if r > min(m, n) {
        var product = [Float](repeating: 0, count: m * n)
        product.withUnsafeMutableBufferPointer { out in
            // P itself (not ΔW's layout): the untransposed product of the stored factors.
            StoredPair(a: pair.a, b: pair.b, rank: r, rows: m, columns: n, scale: pair.scale, transposed: false)
                .accumulateDelta(rows: 0..<m, alpha: 1, beta: 0, into: out.baseAddress!, ldc: n, threads: threads)
        }
        let svd = try product.withUnsafeBufferPointer { try lapackSVD($0.baseAddress!, m: m, n: n, threads: threads) }
        return (svd.singularValues.map(Double.init), svd.u, svd.vt)
    }
    // Q_B (m × r) and R_B = Q_Bᵀ·B (r × r).
    var qB = pair.b
    try Float.orthonormalize(m: m, n: r, a: &qB, threads: threads)
    var rB = [Float](repeating: 0, count: r * r)
    // Aᵀ (n × r), Q_A, R_A = Q_Aᵀ·Aᵀ.
    var aTransposed = [Float](repeating: 0, count: n * r)
    for i in 0..<r { for j in 0..<n { aTransposed[j * r + i] = pair.a[i * n + j] } }
    var qA = aTransposed
    try Float.orthonormalize(m: n, n: r, a: &qA, threads: threads)
    var rA = [Float](repeating: 0, count: r * r)
    qB.withUnsafeBufferPointer { q in
        pair.b.withUnsafeBufferPointer { b in
            gemm(m: r, n: r, k: m, alpha: 1, a: MatrixOperand(q.baseAddress!, ld: r, transposed: true), b: MatrixOperand(b.baseAddress!, ld: r),
                 beta: 0, c: &rB, ldc: r, threads: threads)
        }
    }
    qA.withUnsafeBufferPointer { q in
        aTransposed.withUnsafeBufferPointer { a in
            gemm(m: r, n: r, k: n, alpha: 1, a: MatrixOperand(q.baseAddress!, ld: r, transposed: true), b: MatrixOperand(a.baseAddress!, ld: r),
                 beta: 0, c: &rA, ldc: r, threads: threads)
        }
    }
    // C = scale·R_B·R_Aᵀ in Double.
    var core = [Double](repeating: 0, count: r * r)
    for i in 0..<r {
        for j in 0..<r {
            var sum = 0.0
            for k in 0..<r { sum += Double(rB[i * r + k]) * Double(rA[j * r + k]) }
            core[i * r + j] = pair.scale * sum
        }
    }
    let svd = try core.withUnsafeBufferPointer { try lapackSVD($0.baseAddress!, m: r, n: r, threads: 1) }
    // U = Q_B·U_C (m × r), Vᵀ = V_Cᵀ·Q_Aᵀ (r × n).
    let uCore = svd.u.map(Float.init), vtCore = svd.vt.map(Float.init)
    var u = [Float](repeating: 0, count: m * r), vt = [Float](repeating: 0, count: r * n)
    qB.withUnsafeBufferPointer { q in
        uCore.withUnsafeBufferPointer { c in
            gemm(m: m, n: r, k: r, alpha: 1, a: MatrixOperand(q.baseAddress!, ld: r), b: MatrixOperand(c.baseAddress!, ld: r),
                 beta: 0, c: &u, ldc: r, threads: threads)
        }
    }
    vtCore.withUnsafeBufferPointer { c in
        qA.withUnsafeBufferPointer { q in
            gemm(m: r, n: n, k: r, alpha: 1, a: MatrixOperand(c.baseAddress!, ld: r), b: MatrixOperand(q.baseAddress!, ld: r, transposed: true),
                 beta: 0, c: &vt, ldc: n, threads: threads)
        }
    }
    return (svd.singularValues, u, vt)
}

/// Lowers the ranks of an existing PEFT LoRA adapter without the base model: the work of
/// `lora resize`.
///
/// For each module, the exact SVD of its product (`productSVD`) gives the new rank by `rule`
/// (capped by `maxRank` and the old rank) and the optimal factors at that rank,
/// B' = U_kΣ_k, A' = V_kᵀ, written with α = k (scale 1) in the module's layout (embeddings and
/// `fan_in_fan_out` kept). Tensors saved whole are copied. The new adapter and
/// `lora_resize_report.csv` are written to a temporary directory and renamed into place; every
/// figure of the report is measured on the factors as stored.
/// - Throws: `AdapterError` (the adapter's settings, the output location).
public func resizeAdapter(_ options: ResizeOptions, log: (String) -> Void) throws -> [ResizeReport.Row] {
    let adapter = try LoadedAdapter(directory: options.adapter)
    let location = try OutputLocation.check(options.out, kind: .adapterDirectory, inputs: [options.adapter, adapter.file.path], force: options.force)
    let pending = try PendingDirectory(location, files: OutputLocation.adapterFiles)
    var modules: [AdapterModule] = [], rows: [ResizeReport.Row] = []
    let names = adapter.moduleNames.sorted()
    for (index, module) in names.enumerated() {
        let pair = try adapter.pair(module)
        let (sigma, u, vt) = try productSVD(pair, threads: options.threads)
        // w triplets: fewer than the old rank when that rank exceeds a side of the product, so the
        // new rank is capped by w too, and U is read with w columns.
        let w = sigma.count
        let padded = sigma + [Double](repeating: 0, count: max(0, min(pair.rows, pair.columns) - w))
        let k = options.rule.newRank(padded, cap: min(pair.rank, w, options.maxRank ?? pair.rank))
        var b = [Float](repeating: 0, count: pair.rows * k)
        for i in 0..<pair.rows { for j in 0..<k { b[i * k + j] = u[i * w + j] * Float(sigma[j]) } }
        let total = sigma.reduce(0.0) { $0 + $1 * $1 }, kept = sigma.prefix(k).reduce(0.0) { $0 + $1 * $1 }
        let factors = LowRankFactors(m: pair.rows, n: pair.columns, rank: k, b: b, a: Array(vt[0..<(k * pair.columns)]),
                                     retainedEnergy: total > 0 ? kept / total : 1,
                                     optimalRelativeError: total > 0 ? (max(0, total - kept) / total).squareRoot() : 0,
                                     sigma1: sigma.first ?? 0, sigmaNext: k < padded.count ? padded[k] : nil, method: .exact, note: "")
        let dtype = options.dtype ?? adapter.file.info(PEFTAdapter.factorKeys(module: module, embedding: adapter.isEmbedding(module)).a)!.dtype
        let resized = AdapterModule.pair(module, factors: factors, alpha: Double(k), embedding: adapter.isEmbedding(module), dtype: dtype)
        // P_new against P, both in the stored layout (the transposition, if any, is the same).
        let original = pair.delta(threads: options.threads)
        let error = try original.withUnsafeBufferPointer { try resized.storedPair(transposed: pair.transposed).relativeError(against: $0, threads: options.threads) }
        let row = ResizeReport.Row(module: module, oldRank: pair.rank, newRank: k, retainedEnergy: factors.retainedEnergy,
                                   sumRetained: sigma.prefix(k).reduce(0, +) / max(sigma.reduce(0, +), .leastNormalMagnitude),
                                   maxRatio: sigma[0] / max(sigma[k - 1], .leastNormalMagnitude), relativeError: error,
                                   optimalRelativeError: factors.optimalRelativeError ?? 0, sigma: sigma)
        log("[\(index + 1)/\(names.count)] \(module): rank \(pair.rank) → \(k), retained energy \(format(row.retainedEnergy)), rel. error \(format(error))")
        modules.append(resized)
        rows.append(row)
    }
    for name in adapter.wholeNames.sorted() {
        let key = adapter.wholeKey(name)!, info = adapter.file.info(key)!
        modules.append(.whole(name, tensor: TensorData(name: name, dtype: info.dtype, shape: info.shape, bytes: Data(try adapter.file.bytes(key)))))
    }
    do {
        var output = PEFTAdapter(modules: modules, baseModelName: adapter.config.baseModelName ?? "")
        output.fanInFanOut = adapter.config.fanInFanOut
        try output.write(to: pending.temporary)
        try Data(ResizeReport.columns.csv(rows).utf8).write(to: pending.temporary.appendingPathComponent(ResizeReport.fileName))
    } catch {
        throw AdapterError.outputUnwritable(options.out, reason: "\(error)")
    }
    try pending.commit()
    return rows
}
