/// The policy network evaluated on a batch of states, batched over the states as GEMMs on the
/// project's engine, with the two derivative passes TRPO needs: Jacobian-vector products J·v
/// (forward mode) and vector-Jacobian products Jᵀ·u (reverse mode), J = ∂outputs/∂θ stacked over
/// the batch. θ here is the affine layers' part (log σ never enters the network's outputs).
///
/// Layout (states as rows, row-major, so that each layer is a batch × out × in product):
///
///     states    X   count × n₀
///     hidden l  [T_l | H_l]   count × 2n_l     H_l = tanh(Z_l); T_l: the tangent dH_l in the
///                                              forward pass, the adjoint ∂/∂Z_l in the reverse
///     outputs   Y   count × n_L                (means or logits)
///
/// Keeping T_l beside H_l makes the tangent of a layer one product of depth 2n_{l−1}:
///
///     dZ_l = T_{l−1}·W_lᵀ + H_{l−1}·V_lᵀ + v_b = [T_{l−1} | H_{l−1}]·[W_l | V_l]ᵀ + v_b
///
/// with V_l the direction's part for W_l, [W_l | V_l] an n_l × 2n_{l−1} "stacked" matrix. The thin
/// output layer (n_L = 6 or 2 columns against the micro-kernel's 32) is computed transposed,
/// dYᵀ = [W_L | V_L]·[T | H]ᵀ, an n_L × rows product whose n_L rows fill the 6-row register
/// tile; the output-space vectors of a chunk (dYᵀ, then the weights u) are n_L × rows. Each
/// weight gradient Σ_rows (adjoint)ᵀ·(input) is accumulated in the orientation whose padding to
/// the 6 × 32 (Float) or 6 × 16 (Double) tile is smaller: W₁ (64 × 17) as its transpose 17 × 64.
///
/// Threads take contiguous shares of the states (`share`) in one parallel region per pass and
/// walk them in chunks of `chunkRows` rows, so that a chunk's activations stay in L2; each thread
/// sums its weight gradients into its own buffer, and the buffers are added in thread order.
/// The result depends on the thread count only through that order of summation.
final class PolicyLinearization<T: GEMMScalar> {
    let network: PolicyNetwork
    let count: Int
    let threads: Int
    let chunkRows: Int
    /// θ's affine part (a copy), and the states (a copy), count × n₀.
    let parameters: UnsafeMutablePointer<T>
    let states: UnsafeMutablePointer<T>
    /// The activations at θ.
    let activations: PolicyActivations<T>
    /// `activations.hidden`: [T_l | H_l] for hidden layer l = 1…L−1 at index l − 1.
    let hidden: [UnsafeMutablePointer<T>]
    /// [W_l | V_l] for l = 2…L at index l − 2; the left half is W_l, the right half is written by
    /// each tangent pass.
    let stackedWeights: [UnsafeMutablePointer<T>]
    /// Per thread: an n_L × chunkRows output-space buffer and a gradient of the affine layers.
    let outputScratch: UnsafeMutablePointer<T>
    let partialGradients: UnsafeMutablePointer<T>
    /// Whether layer l's (index l − 1) weight gradient is accumulated as its transpose.
    let accumulatesTransposed: [Bool]
    private let allocations: [UnsafeMutablePointer<T>]

    /// States per chunk: a chunk's [T | H] buffers of two 64-wide layers (512 KB in Float at 512
    /// rows) and its states stay in the 1 MB L2 between the passes. Measured (Float, 17 → 64 → 64
    /// → 6, N = 5000, one thread, CPU time on a loaded machine): 128 rows 2.87 ms per product,
    /// 256 rows 2.55, 512 rows 2.44, 1024 rows 2.66, the whole batch 2.41; 512 keeps the
    /// working set of each of two threads in its own L2.
    static var defaultChunkRows: Int { 512 }
    /// Fewest states worth a thread: a Fisher-vector product costs about 4·10⁴ flops per state
    /// (17 → 64 → 64 → 6), so 256 states (10⁷ flops, about 0.15 ms) outweigh a thread's wake-up
    /// (tens of microseconds).
    static var minimumRowsPerThread: Int { 256 }

    /// Copies θ's affine part and the states and runs the forward pass. The caller has validated
    /// both (finite, sized for `network` and `count` ≥ 1).
    init(network: PolicyNetwork, parameters theta: UnsafePointer<T>, states: UnsafePointer<T>, count: Int, threads: Int,
         chunkRows: Int = PolicyLinearization.defaultChunkRows) {
        self.network = network
        self.count = count
        self.threads = max(1, min(threads, count / Self.minimumRowsPerThread))
        self.chunkRows = chunkRows
        let sizes = network.layerSizes, layers = network.layerCount
        let parameterCount = network.layerParameterCount
        parameters = allocateAligned(T.self, count: parameterCount)
        parameters.update(from: theta, count: parameterCount)
        self.states = allocateAligned(T.self, count: checkedProduct(count, sizes[0]))
        self.states.update(from: states, count: count * sizes[0])
        outputScratch = allocateAligned(T.self, count: checkedProduct(self.threads, checkedProduct(network.outputCount, chunkRows)))
        partialGradients = allocateAligned(T.self, count: checkedProduct(self.threads, parameterCount))
        activations = PolicyActivations(network: network, count: count)
        hidden = activations.hidden
        var stacked: [UnsafeMutablePointer<T>] = []
        for l in 2...layers {
            let fanIn = sizes[l - 1], matrix = allocateAligned(T.self, count: 2 * fanIn * sizes[l])
            let weights = theta + network.weightOffsets[l - 1]
            for o in 0..<sizes[l] { (matrix + o * 2 * fanIn).update(from: weights + o * fanIn, count: fanIn) }
            stacked.append(matrix)
        }
        stackedWeights = stacked
        allocations = [parameters, self.states, outputScratch, partialGradients] + stacked
        accumulatesTransposed = (1...layers).map { l in
            let (rows, columns) = (sizes[l], sizes[l - 1])
            let mr = T.microTileRows, nr = T.microTileColumns
            return roundUp(columns, mr) * roundUp(rows, nr) < roundUp(rows, mr) * roundUp(columns, nr)
        }
        forward(parameters: parameters, into: activations)
    }

    deinit {
        for pointer in allocations { pointer.deallocate() }
    }

    /// The outputs at θ, count × n_L.
    var outputs: UnsafeMutablePointer<T> { activations.outputs }

    /// Runs `body(thread, rows)` over every chunk of the batch, on `threads` threads (at most the
    /// operator's own count, for which the buffers were made).
    func forEachChunk(threads requested: Int? = nil, _ body: (Int, Range<Int>) -> Void) {
        let threads = min(requested ?? self.threads, self.threads)
        let (count, chunkRows) = (self.count, self.chunkRows)
        parallelFor(threads) { t in
            let (first, end) = share(of: count, part: t, parts: threads)
            var start = first
            while start < end {
                let stop = min(end, start + chunkRows)
                body(t, start..<stop)
                start = stop
            }
        }
    }

    // MARK: Forward pass

    /// The network at `theta` (affine part) on all states: tanh activations into the H halves of
    /// `activations.hidden`, outputs (count × n_L) into `activations.outputs`. Used at θ by
    /// `init` and at trial parameters by the line search (with activations of its own).
    ///
    /// - Complexity: 2·count·Σ_l n_l·n_{l−1} flops, count·Σ_{l<L} n_l tanh.
    func forward(parameters theta: UnsafePointer<T>, into activations: PolicyActivations<T>) {
        let sizes = network.layerSizes, layers = network.layerCount
        let (hidden, outputs) = (activations.hidden, activations.outputs)
        forEachChunk { _, rows in
            let r0 = rows.lowerBound, rowCount = rows.count
            var input = MatrixOperand(UnsafePointer(states + r0 * sizes[0]), ld: sizes[0])
            for l in 1...layers {
                let (fanIn, fanOut) = (sizes[l - 1], sizes[l])
                let weightsTransposed = MatrixOperand(theta + network.weightOffsets[l - 1], ld: fanIn, transposed: true)
                let bias = theta + network.biasOffsets[l - 1]
                if l == layers {
                    let output = outputs + r0 * fanOut
                    gemm(m: rowCount, n: fanOut, k: fanIn, alpha: 1, a: input, b: weightsTransposed, beta: 0, c: output, ldc: fanOut)
                    for i in 0..<rowCount { addBias(bias, to: output + i * fanOut, count: fanOut) }
                } else {
                    let activation = hidden[l - 1] + r0 * 2 * fanOut + fanOut
                    gemm(m: rowCount, n: fanOut, k: fanIn, alpha: 1, a: input, b: weightsTransposed, beta: 0, c: activation, ldc: 2 * fanOut)
                    for i in 0..<rowCount {
                        let row = activation + i * 2 * fanOut
                        addBias(bias, to: row, count: fanOut)
                        tanhInPlace(row, count: fanOut)
                    }
                    input = MatrixOperand(UnsafePointer(activation), ld: 2 * fanOut)
                }
            }
        }
    }

    // MARK: Tangent and adjoint passes

    /// Writes the direction v's weights V_l into the right halves of the stacked matrices. Call
    /// before `tangent` (outside the parallel region: every thread reads them).
    func loadDirection(_ v: UnsafePointer<T>) {
        let sizes = network.layerSizes
        for l in 2...network.layerCount {
            let fanIn = sizes[l - 1], matrix = stackedWeights[l - 2], direction = v + network.weightOffsets[l - 1]
            for o in 0..<sizes[l] { (matrix + o * 2 * fanIn + fanIn).update(from: direction + o * fanIn, count: fanIn) }
        }
    }

    /// The rows' part of J·v, transposed: dYᵀ (n_L × rows.count, row stride rows.count) into
    /// `outputTangent`; T_l holds dH_l afterwards. `loadDirection(v)` must have run.
    ///
    /// - Complexity: 2·rows·(n₁n₀ + Σ_{l≥2} 2n_l·n_{l−1}) flops.
    func tangent(rows: Range<Int>, direction v: UnsafePointer<T>, into outputTangent: UnsafeMutablePointer<T>) {
        let sizes = network.layerSizes, layers = network.layerCount
        let r0 = rows.lowerBound, rowCount = rows.count
        for l in 1..<layers {
            let (fanIn, width) = (sizes[l - 1], sizes[l])
            let layer = hidden[l - 1] + r0 * 2 * width
            if l == 1 {
                gemm(m: rowCount, n: width, k: fanIn, alpha: 1,
                     a: MatrixOperand(UnsafePointer(states + r0 * fanIn), ld: fanIn),
                     b: MatrixOperand(v + network.weightOffsets[0], ld: fanIn, transposed: true),
                     beta: 0, c: layer, ldc: 2 * width)
            } else {
                gemm(m: rowCount, n: width, k: 2 * fanIn, alpha: 1,
                     a: MatrixOperand(UnsafePointer(hidden[l - 2] + r0 * 2 * fanIn), ld: 2 * fanIn),
                     b: MatrixOperand(UnsafePointer(stackedWeights[l - 2]), ld: 2 * fanIn, transposed: true),
                     beta: 0, c: layer, ldc: 2 * width)
            }
            let bias = v + network.biasOffsets[l - 1]
            for i in 0..<rowCount {
                let row = layer + i * 2 * width
                for j in 0..<width {
                    let h = row[width + j]
                    row[j] = (row[j] + bias[j]) * (1 - h * h)
                }
            }
        }
        let (fanIn, outputs) = (sizes[layers - 1], sizes[layers])
        gemm(m: outputs, n: rowCount, k: 2 * fanIn, alpha: 1,
             a: MatrixOperand(UnsafePointer(stackedWeights[layers - 2]), ld: 2 * fanIn),
             b: MatrixOperand(UnsafePointer(hidden[layers - 2] + r0 * 2 * fanIn), ld: 2 * fanIn, transposed: true),
             beta: 0, c: outputTangent, ldc: rowCount)
        let bias = v + network.biasOffsets[layers - 1]
        for a in 0..<outputs {
            let row = outputTangent + a * rowCount, b = bias[a]
            for i in 0..<rowCount { row[i] += b }
        }
    }

    /// Adds the rows' part of Jᵀ·u to `gradient` (the affine layers' layout, except that layers
    /// in `accumulatesTransposed` hold their weight gradient transposed), where u is the
    /// output-space vector in `outputWeights` (n_L × rows.count, row stride rows.count). Uses the
    /// T halves of `hidden` for the adjoints.
    ///
    /// - Complexity: 2·rows·(2n_L·n_{L−1} + Σ_{2≤l<L} 2n_l·n_{l−1} + n₁n₀) flops.
    func adjoint(rows: Range<Int>, outputWeights u: UnsafePointer<T>, into gradient: UnsafeMutablePointer<T>) {
        let sizes = network.layerSizes, layers = network.layerCount
        let r0 = rows.lowerBound, rowCount = rows.count
        // The adjoint of layer l's outputs, as a rows × n_l operand.
        var adjointOperand = MatrixOperand(u, ld: rowCount, transposed: true)
        for l in stride(from: layers, through: 1, by: -1) {
            let (fanIn, fanOut) = (sizes[l - 1], sizes[l])
            let input = l == 1
                ? MatrixOperand(UnsafePointer(states + r0 * fanIn), ld: fanIn)
                : MatrixOperand(UnsafePointer(hidden[l - 2] + r0 * 2 * fanIn + fanIn), ld: 2 * fanIn)
            // ∂/∂W_l += adjointᵀ·input, or its transpose.
            let weightGradient = gradient + network.weightOffsets[l - 1]
            if accumulatesTransposed[l - 1] {
                gemm(m: fanIn, n: fanOut, k: rowCount, alpha: 1, a: input.transposed, b: adjointOperand,
                     beta: 1, c: weightGradient, ldc: fanOut)
            } else {
                gemm(m: fanOut, n: fanIn, k: rowCount, alpha: 1, a: adjointOperand.transposed, b: input,
                     beta: 1, c: weightGradient, ldc: fanIn)
            }
            if l == layers {
                let biasGradient = gradient + network.biasOffsets[l - 1]
                for a in 0..<fanOut {
                    let row = u + a * rowCount
                    var sum: T = 0
                    for i in 0..<rowCount { sum += row[i] }
                    biasGradient[a] += sum
                }
            }
            if l == 1 { break }
            // The adjoint of H_{l−1}, then of Z_{l−1} = through tanh' = 1 − H², into T_{l−1}.
            let previous = hidden[l - 2] + r0 * 2 * fanIn
            gemm(m: rowCount, n: fanIn, k: fanOut, alpha: 1, a: adjointOperand,
                 b: MatrixOperand(UnsafePointer(parameters + network.weightOffsets[l - 1]), ld: fanIn),
                 beta: 0, c: previous, ldc: 2 * fanIn)
            let biasGradient = gradient + network.biasOffsets[l - 2]
            for i in 0..<rowCount {
                let row = previous + i * 2 * fanIn
                for j in 0..<fanIn {
                    let h = row[fanIn + j]
                    let value = row[j] * (1 - h * h)
                    row[j] = value
                    biasGradient[j] += value
                }
            }
            adjointOperand = MatrixOperand(UnsafePointer(previous), ld: 2 * fanIn)
        }
    }

    /// y ← Σ over all states of Jᵀ·u, where `outputWeights(thread, rows, buffer)` writes each
    /// chunk's u (n_L × rows.count) into `buffer`, after filling it with the chunk's dYᵀ = (J·v)ᵀ
    /// when a direction v is given. y has the affine layers' layout (layerParameterCount). Runs
    /// on `threads` threads, at most `self.threads`.
    func transposedJacobianProduct(
        direction v: UnsafePointer<T>?,
        outputWeights: (Int, Range<Int>, UnsafeMutablePointer<T>) -> Void,
        into y: UnsafeMutablePointer<T>,
        threads requested: Int
    ) {
        let threads = max(1, min(requested, self.threads))
        let parameterCount = network.layerParameterCount, outputs = network.outputCount, chunkRows = self.chunkRows
        if let v { loadDirection(v) }
        let (scratch, partials) = (outputScratch, partialGradients)
        partials.update(repeating: 0, count: threads * parameterCount)
        forEachChunk(threads: threads) { t, rows in
            let buffer = scratch + t * outputs * chunkRows
            if let v { tangent(rows: rows, direction: v, into: buffer) }
            outputWeights(t, rows, buffer)
            adjoint(rows: rows, outputWeights: buffer, into: partials + t * parameterCount)
        }
        // Add the threads' gradients in thread order, undoing the transposed accumulations.
        let sizes = network.layerSizes
        y.update(repeating: 0, count: parameterCount)
        for t in 0..<threads {
            let partial = partials + t * parameterCount
            for l in 1...network.layerCount {
                let (fanIn, fanOut) = (sizes[l - 1], sizes[l]), offset = network.weightOffsets[l - 1]
                if accumulatesTransposed[l - 1] {
                    for o in 0..<fanOut { for i in 0..<fanIn { y[offset + o * fanIn + i] += partial[offset + i * fanOut + o] } }
                } else {
                    for e in offset..<(offset + fanOut * fanIn) { y[e] += partial[e] }
                }
                let bias = network.biasOffsets[l - 1]
                for e in bias..<(bias + fanOut) { y[e] += partial[e] }
            }
        }
    }
}

/// The hidden activations and outputs of the policy network on a batch (see
/// `PolicyLinearization` for the layout).
final class PolicyActivations<T: GEMMScalar> {
    /// [T_l | H_l], count × 2n_l, for hidden layer l = 1…L−1 at index l − 1.
    let hidden: [UnsafeMutablePointer<T>]
    /// count × n_L.
    let outputs: UnsafeMutablePointer<T>

    init(network: PolicyNetwork, count: Int) {
        let sizes = network.layerSizes
        hidden = (1..<network.layerCount).map { l in allocateAligned(T.self, count: checkedProduct(count, 2 * sizes[l])) }
        outputs = allocateAligned(T.self, count: checkedProduct(count, network.outputCount))
    }

    deinit {
        for pointer in hidden { pointer.deallocate() }
        outputs.deallocate()
    }
}

/// a·b, or a fatal error naming the sizes when it overflows `Int`.
func checkedProduct(_ a: Int, _ b: Int) -> Int {
    let (value, overflow) = a.multipliedReportingOverflow(by: b)
    if overflow { fatalError("policy buffers: \(a) × \(b) elements overflow Int") }
    return value
}

extension MatrixOperand {
    /// The same elements read through the other transpose: op(X)ᵀ.
    var transposed: MatrixOperand { MatrixOperand(base, ld: ld, transposed: !isTransposed) }
}

/// row[j] += bias[j] for j < count.
@inline(__always)
func addBias<T: BinaryFloatingPoint>(_ bias: UnsafePointer<T>, to row: UnsafeMutablePointer<T>, count: Int) {
    for j in 0..<count { row[j] += bias[j] }
}
