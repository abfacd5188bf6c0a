/// Winograd's minimal filtering for 3×3, stride-1, dilation-1 convolution (Lavin & Gray, "Fast
/// Algorithms for Convolutional Neural Networks", 2016): each m × m output tile of each channel
/// pair is
///
///     Y = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
///
/// for the 3 × 3 kernel g and the α × α input tile d (α = m + 2) it reads, summed over input
/// channels. With U = G g Gᵀ and V = Bᵀ d B, the sum over channels of U ⊙ V is, for each of
/// the α² positions (ξ, ν), a matrix product over channels: M_ξν = U_ξν · V_ξν, which is where
/// the work is — α² products of k = C_in/G instead of one of k = 9·C_in/G over m² times as many
/// columns: 2.25× fewer multiplications for F(2×2, 3×3), 4× for F(4×4, 3×3).
///
/// Every stage is a GEMM on the engine; the transforms are Kronecker products applied to all
/// tiles at once (vec(G g Gᵀ) = (G ⊗ G)·vec(g), and likewise for B and A):
///
///     weights:  U (α² × G·C_in/G·C_out/G) = (G ⊗ G)   (α² × 9)  · W  (9 × …)     once per call
///     input:    V (α² × C_in·T)          = (Bᵀ ⊗ Bᵀ) (α² × α²) · D  (α² × C_in·T)   D: the tiles, gathered
///     products: M_ξν,g = V_ξν,gᵀ · U_ξν,g  (t × C_out/G)         (α²·G GEMMs, k = C_in/G)
///     output:   Y (m² × C_out·T)         = (Aᵀ ⊗ Aᵀ) (m² × α²) · M  (α² × C_out·T), then scattered + bias
///
/// Tiles (T of them over the whole batch, edge tiles reading zero padding and writing only their
/// valid outputs) are processed in chunks of at most 96, one chunk per thread at a time, each
/// thread with its own buffers and single-threaded GEMMs: the threads never wait for each other,
/// and since every element's sums run in the same order whatever the chunking, the result does
/// not depend on the thread count. U is stored [ξν][g][ci][co], V [ξν][c][t] and M [ξν][t][co],
/// tiles as the products' rows (whole micro-tile strips of 6, and C_out/G columns in strips of
/// 32 even for small chunks), so that every GEMM operand takes the engine's fast packing paths.
///
/// ## Error bound (derived here; it is larger than the direct sum's)
///
/// Let u be the unit roundoff, K_G, K_B, K_A the Kronecker matrices, w the 9 weights of one
/// (co, ci) pair, d one input tile, and U⁺ = |K_G||w|, V⁺ = |K_B||d| (elementwise absolute
/// values; U⁺ = vec(|G||g||G|ᵀ), V⁺ = vec(|Bᵀ||d||B|)). Each stage is a sum of products with one
/// rounding per FMA (Higham, Accuracy and Stability, §3.1, and Lemma 3.3 to combine factors):
///
/// 1. Û = fl(K̂_G w), k = 9: |Û − U| ≤ ε_U·U⁺ with 1 + ε_U = (1 + γ_9)(1 + γ_r), where γ_r = 0
///    when K_G's entries are exact in the element type (F(2×2): entries ±1, ±½, ±¼) and γ_2 when
///    they are rounded (F(4×4): sixths and twenty-fourths, rounded from Double).
/// 2. V̂ = fl(K_B D), k = α², K_B exact (integer entries): |V̂ − V| ≤ γ_{α²}·V⁺.
/// 3. M̂ = fl(Σ_ci Û V̂), k = c = C_in/G, with |Û| ≤ (1 + ε_U)U⁺ and |V̂| ≤ (1 + γ_{α²})V⁺:
///    |M̂ − M| ≤ ε_M·P⁺,  1 + ε_M = (1 + γ_c)(1 + ε_U)(1 + γ_{α²}),  P⁺_ξν = Σ_ci U⁺_ξν V⁺_ξν.
/// 4. Ŷ = fl(K_A M̂), k = α², K_A exact (entries 0, ±1, ±2, ±4, ±8), |M| ≤ P⁺:
///    |Ŷ − Y| ≤ [(1 + γ_{α²})(1 + ε_M) − 1]·|K_A| P⁺.
/// 5. ŷ = fl(Ŷ + b): one more factor (1 + u), relative to |K_A| P⁺ + |b|.
///
/// Combining the factors with (1 + γ_a)(1 + γ_b) ≤ 1 + γ_{a+b}:
///
///     |ŷ − y| ≤ γ_n · S,   S = |K_A| P⁺ + |b|   (per output element, computable from the data),
///     n = C_in/G + 2α² + 9 (+ 2 when K_G is rounded) (+ 1 with a bias)
///
/// — `errorTermCount` is n and `winogradErrorMagnitude` computes S. S exceeds the direct sum's
/// Σ|w||x| + |b| by the transforms' growth (for F(2×2) at most |Aᵀ|·|Bᵀ|-type factors of 4 per
/// axis; F(4×4)'s are far larger, 10² and more), which is where Winograd's extra error comes
/// from (Barabasz, Anderson, Soodhalter, Gregg, "Error analysis and improving the accuracy of
/// Winograd convolution for DNNs", 2020). The err_ratio reported for a Winograd row is
/// |ŷ − y|/(u·S) against γ_n/u.
public enum WinogradTile: String, Hashable, Sendable, CaseIterable, CustomStringConvertible {
    /// F(2×2, 3×3): 4 × 4 input tiles, 2 × 2 output tiles.
    case f2x3
    /// F(4×4, 3×3): 6 × 6 input tiles, 4 × 4 output tiles.
    case f4x3

    public var description: String { rawValue }

    /// m: the output tile's side.
    public var outputTileSize: Int { self == .f2x3 ? 2 : 4 }
    /// α = m + 2: the input tile's side.
    public var inputTileSize: Int { outputTileSize + 2 }

    /// Bᵀ (α × α), integers.
    var inputTransform: [[Double]] {
        switch self {
        case .f2x3:
            return [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
        case .f4x3:
            return [[4, 0, -5, 0, 1, 0], [0, -4, -4, 1, 1, 0], [0, 4, -4, -1, 1, 0],
                    [0, -2, -1, 2, 1, 0], [0, 2, -1, -2, 1, 0], [0, 4, 0, -5, 0, 1]]
        }
    }

    /// G (α × 3) as exact fractions (numerator, denominator).
    var kernelTransform: [[(Int, Int)]] {
        switch self {
        case .f2x3:
            return [[(1, 1), (0, 1), (0, 1)], [(1, 2), (1, 2), (1, 2)], [(1, 2), (-1, 2), (1, 2)], [(0, 1), (0, 1), (1, 1)]]
        case .f4x3:
            return [[(1, 4), (0, 1), (0, 1)], [(-1, 6), (-1, 6), (-1, 6)], [(-1, 6), (1, 6), (-1, 6)],
                    [(1, 24), (1, 12), (1, 6)], [(1, 24), (-1, 12), (1, 6)], [(0, 1), (0, 1), (1, 1)]]
        }
    }

    /// Aᵀ (m × α), integers.
    var outputTransform: [[Double]] {
        switch self {
        case .f2x3:
            return [[1, 1, 1, 0], [0, 1, -1, -1]]
        case .f4x3:
            return [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]]
        }
    }

    /// Whether every entry of G ⊗ G is a dyadic fraction, exact in binary floating point.
    var kernelTransformIsExact: Bool {
        kernelTransform.allSatisfy { $0.allSatisfy { $0.1 & ($0.1 - 1) == 0 } }
    }

    /// X ⊗ X for an r × c matrix X, as an r² × c² row-major array: entry ((i·r + j), (p·c + q))
    /// is X[i][p]·X[j][q].
    static func kronecker(_ x: [[Double]]) -> [Double] {
        let (rows, columns) = (x.count, x[0].count)
        var product = [Double](repeating: 0, count: rows * rows * columns * columns)
        for i in 0..<rows { for j in 0..<rows { for p in 0..<columns { for q in 0..<columns {
            product[(i * rows + j) * columns * columns + p * columns + q] = x[i][p] * x[j][q]
        } } } }
        return product
    }

    /// G ⊗ G with each entry rounded once from its exact value (a ratio of integers).
    func kernelKronecker<T: BinaryFloatingPoint>(_: T.Type) -> [T] {
        let g = kernelTransform, alpha = inputTileSize
        var product = [T](repeating: 0, count: alpha * alpha * 9)
        for i in 0..<alpha { for j in 0..<alpha { for p in 0..<3 { for q in 0..<3 {
            let (numerator, denominator) = (g[i][p].0 * g[j][q].0, g[i][p].1 * g[j][q].1)
            product[(i * alpha + j) * 9 + p * 3 + q] = T(Double(numerator) / Double(denominator))
        } } } }
        return product
    }

    /// Whether Winograd applies: a 3 × 3 kernel, stride 1, dilation 1.
    public static func applies(to g: Conv2DGeometry) -> Bool {
        g.kernelHeight == 3 && g.kernelWidth == 3 && g.stride == 1 && g.dilation == 1
    }

    /// Why Winograd does not apply to `g`, for an error message.
    static func requirement(_ g: Conv2DGeometry) -> String {
        "Winograd F(m×m, 3×3) needs a 3x3 kernel, stride 1 and dilation 1; the layer has kernel "
            + "\(g.kernelHeight)x\(g.kernelWidth), stride \(g.stride), dilation \(g.dilation)"
    }

    /// n in the bound |ŷ − y| ≤ γ_n·S (see the type's documentation):
    /// C_in/G + 2α² + 9, plus 2 when G ⊗ G is rounded, plus 1 with a bias.
    public func errorTermCount(_ g: Conv2DGeometry, hasBias: Bool) -> Int {
        let alpha = inputTileSize
        return g.inputChannelsPerGroup + 2 * alpha * alpha + 9 + (kernelTransformIsExact ? 0 : 2) + (hasBias ? 1 : 0)
    }

    /// Tiles over the whole batch: N·⌈H_out/m⌉·⌈W_out/m⌉.
    func tileGrid(_ g: Conv2DGeometry) -> (rows: Int, columns: Int, count: Int) {
        let m = outputTileSize
        let rows = (g.outputHeight + m - 1) / m, columns = (g.outputWidth + m - 1) / m
        return (rows, columns, g.batch * rows * columns)
    }

    /// Elements of scratch memory one call takes on `threads` threads (`WinogradPlan`): the
    /// padded input, the transformed weights, and per thread one chunk's tiles D,
    /// their transforms V, the products M and the output tiles Y, with the engine's buffers. O(1).
    public func workspaceElements<T: GEMMScalar>(_ g: Conv2DGeometry, _: T.Type, threads: Int) -> Int {
        WinogradPlan(self, g, T.self, threads: threads).workspaceElements
    }
}

/// The chunking and buffers of one Winograd call, computed once: `runWinogradConvolution` lays
/// its scratch memory out from it and `workspaceElements` reports it.
struct WinogradPlan {
    let tile: WinogradTile
    let positions: Int, outputPositions: Int
    /// Weight pairs (g, ci, co): G·(C_in/G)·(C_out/G).
    let pairs: Int
    /// Leading dimensions (`paddedLeadingDimension`) of the weight matrices (pairs columns),
    /// of D and V (C_in·chunk columns) and of M and Y (C_out·chunk columns).
    let pairStride: Int, tileStride: Int, productStride: Int
    /// Tiles per chunk: at most 96 (16 row strips of the micro-kernel in the products), chunks of
    /// equal size shared evenly among the threads. Measured, 28² 128-channel layer: chunks sized
    /// to keep the buffers in L2 (19 tiles) made the products 40% slower.
    let chunk: Int, chunks: Int, parts: Int
    let padded: PaddedTileInput
    /// Elements of each buffer (each a multiple of 16, so every buffer starts on a cache line).
    let weightElements: Int, weightEngineElements: Int
    let tileElements: Int, productElements: Int, outputTileElements: Int, chunkEngineElements: Int
    var perThreadElements: Int { 2 * tileElements + productElements + outputTileElements + chunkEngineElements }
    var workspaceElements: Int { roundUp(padded.elements, 16) + weightElements + weightEngineElements + parts * perThreadElements }

    init<T: GEMMScalar>(_ tile: WinogradTile, _ g: Conv2DGeometry, _: T.Type, threads: Int) {
        self.tile = tile
        let (alpha, m) = (tile.inputTileSize, tile.outputTileSize)
        positions = alpha * alpha
        outputPositions = m * m
        pairs = g.groups * g.inputChannelsPerGroup * g.outputChannelsPerGroup
        padded = PaddedTileInput(g, tile: tile)
        // As many chunks of at most 96 tiles as needed, a multiple of the thread count, of equal
        // size rounded up to whole row strips of the micro-kernel.
        let count = padded.grid.count, mr = T.microTileRows
        let wanted = roundUp(max(1, (count + 95) / 96), threads)
        chunk = max(1, min(count, roundUp((count + wanted - 1) / wanted, mr)))
        chunks = (count + chunk - 1) / chunk
        parts = min(threads, chunks)
        pairStride = paddedLeadingDimension(pairs)
        tileStride = paddedLeadingDimension(g.inputChannels * chunk)
        productStride = paddedLeadingDimension(g.outputChannels * chunk)
        // The transformed weights (α² × pairs).
        weightElements = positions * pairStride
        weightEngineElements = roundUp(engineWorkspaceElements(T.self, m: positions, n: pairs, k: 9, threads: threads), 16)
        tileElements = positions * tileStride
        productElements = positions * productStride
        outputTileElements = outputPositions * productStride
        chunkEngineElements = roundUp([
            engineWorkspaceElements(T.self, m: positions, n: g.inputChannels * chunk, k: positions, threads: 1),
            engineWorkspaceElements(T.self, m: chunk, n: g.outputChannelsPerGroup, k: g.inputChannelsPerGroup, threads: 1),
            engineWorkspaceElements(T.self, m: outputPositions, n: g.outputChannels * chunk, k: positions, threads: 1),
        ].max()!, 16)
    }
}

/// A leading dimension for a matrix with `columns` columns whose rows are read together: a
/// whole number of cache lines plus one, so that rows a multiple of 4 KB apart do not all fall
/// into the same set of the 8-way L1 cache. Measured: gathering D with rows 24 KB apart (64
/// channels × 96 tiles) took half of a 56² layer's time; one extra line per row removed that.
func paddedLeadingDimension(_ columns: Int) -> Int { roundUp(columns, 16) + 16 }

/// `conv2D` by Winograd F(m×m, 3×3), as documented on `WinogradTile`.
func runWinogradConvolution<T: GEMMScalar>(_ tile: WinogradTile, _ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int) {
    let plan = WinogradPlan(tile, problem.geometry, T.self, threads: threads)
    ScratchMemory.withElements(T.self, count: plan.workspaceElements) { workspace in
        runWinogradConvolution(plan, problem, into: output, threads: threads, workspace: workspace)
    }
}

func runWinogradConvolution<T: GEMMScalar>(
    _ plan: WinogradPlan, _ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int, workspace: UnsafeMutablePointer<T>
) {
    let g = problem.geometry, tile = plan.tile
    let (positions, outputPositions, pairs) = (plan.positions, plan.outputPositions, plan.pairs)
    let (groups, inChannels, outChannels) = (g.groups, g.inputChannelsPerGroup, g.outputChannelsPerGroup)
    let padded = plan.padded, grid = padded.grid

    // The input, zero-padded so that every tile reads inside it.
    let paddedInput = workspace
    padded.fill(from: problem.input, into: paddedInput, threads: threads)

    // U = (G ⊗ G)·W, stored [ξν][g][ci][co], W packed straight from the weights.
    let transformed = paddedInput + roundUp(padded.elements, 16)
    let kernelKronecker = tile.kernelKronecker(T.self)
    kernelKronecker.withUnsafeBufferPointer { kg in
        engineProduct(m: positions, n: pairs, k: 9, alpha: 1, a: .matrix(MatrixOperand(kg.baseAddress!, ld: 9)),
                      b: .packer(weightPacker(problem)), beta: 0, c: transformed, ldc: plan.pairStride,
                      threads: threads, workspace: transformed + plan.weightElements)
    }

    let inputKronecker = WinogradTile.kronecker(tile.inputTransform).map { T($0) }
    let outputKronecker = WinogradTile.kronecker(tile.outputTransform).map { T($0) }
    let threadBuffers = transformed + plan.weightElements + plan.weightEngineElements
    inputKronecker.withUnsafeBufferPointer { kb in
        outputKronecker.withUnsafeBufferPointer { ka in
            parallelFor(plan.parts) { part in
                let tiles = threadBuffers + part * plan.perThreadElements
                let transformedTiles = tiles + plan.tileElements, products = transformedTiles + plan.tileElements
                let outputTiles = products + plan.productElements, engine = outputTiles + plan.outputTileElements
                let (firstChunk, endChunk) = share(of: plan.chunks, part: part, parts: plan.parts)
                for chunkIndex in firstChunk..<endChunk {
                    let firstTile = chunkIndex * plan.chunk, count = min(plan.chunk, grid.count - firstTile)
                    // D [ab][c][t], then V = (Bᵀ ⊗ Bᵀ)·D, [ξν][c][t].
                    padded.gatherTiles(paddedInput, first: firstTile, count: count, into: tiles, leadingDimension: plan.tileStride)
                    engineProduct(m: positions, n: g.inputChannels * count, k: positions, alpha: 1, a: .matrix(MatrixOperand(kb.baseAddress!, ld: positions)),
                                  b: .matrix(MatrixOperand(UnsafePointer(tiles), ld: plan.tileStride)), beta: 0,
                                  c: transformedTiles, ldc: plan.tileStride, threads: 1, workspace: engine)
                    // M_ξν,g (t × C_out/G) = V_ξν,gᵀ (t × C_in/G) · U_ξν,g (C_in/G × C_out/G), stored [ξν][t][co].
                    for position in 0..<positions {
                        for group in 0..<groups {
                            let u = UnsafePointer(transformed + position * plan.pairStride + group * inChannels * outChannels)
                            let v = UnsafePointer(transformedTiles + position * plan.tileStride + group * inChannels * count)
                            engineProduct(m: count, n: outChannels, k: inChannels, alpha: 1,
                                          a: .matrix(MatrixOperand(v, ld: count, transposed: true)), b: .matrix(MatrixOperand(u, ld: outChannels)),
                                          beta: 0, c: products + position * plan.productStride + group * outChannels, ldc: g.outputChannels,
                                          threads: 1, workspace: engine)
                        }
                    }
                    // Y = (Aᵀ ⊗ Aᵀ)·M, then each tile's valid outputs plus the bias.
                    engineProduct(m: outputPositions, n: g.outputChannels * count, k: positions, alpha: 1, a: .matrix(MatrixOperand(ka.baseAddress!, ld: positions)),
                                  b: .matrix(MatrixOperand(UnsafePointer(products), ld: plan.productStride)), beta: 0,
                                  c: outputTiles, ldc: plan.productStride, threads: 1, workspace: engine)
                    padded.scatterTiles(outputTiles, first: firstTile, count: count, leadingDimension: plan.productStride, bias: problem.bias, into: output)
                }
            }
        }
    }
}

/// The weights as the 9 × pairs operand W of the weight transform, packed for the engine
/// straight from the weight buffer: column (g, ci, co) holds the nine taps (ky, kx) of
/// w[g·C_out/G + co, ci], which are contiguous (NCHW) or C_in/G apart (NHWC).
func weightPacker<T: GEMMScalar>(_ problem: Conv2DProblem<T>) -> GEMMMicroPanelPacker<T> {
    let g = problem.geometry, nr = T.microTileColumns
    let (inChannels, outChannels) = (g.inputChannelsPerGroup, g.outputChannelsPerGroup)
    let tapStride = g.layout == .nchw ? 1 : inChannels
    return GEMMMicroPanelPacker { firstRow, firstColumn, rows, columns, destination in
        for j in 0..<columns {
            let column = firstColumn + j
            let (co, ci, group) = (column % outChannels, (column / outChannels) % inChannels, column / (outChannels * inChannels))
            let taps = problem.weight + g.weightIndex(group * outChannels + co, ci, 0, 0) + firstRow * tapStride
            for p in 0..<rows { destination[p * nr + j] = taps[p * tapStride] }
        }
        for p in 0..<rows { for j in columns..<nr { destination[p * nr + j] = 0 } }
    }
}

/// The input of a Winograd convolution, zero-padded to whole tiles, in the layer's layout:
/// plane (n, c) of ⌈H_out/m⌉·m + 2 rows of ⌈W_out/m⌉·m + 2 columns (NCHW), or those rows and
/// columns of C_in channels (NHWC); input pixel (iy, ix) at padded (iy + p_h, ix + p_w).
struct PaddedTileInput {
    let geometry: Conv2DGeometry
    let tile: WinogradTile
    let height: Int, width: Int
    let grid: (rows: Int, columns: Int, count: Int)
    var elements: Int { geometry.batch * geometry.inputChannels * height * width }

    init(_ g: Conv2DGeometry, tile: WinogradTile) {
        geometry = g
        self.tile = tile
        grid = tile.tileGrid(g)
        height = grid.rows * tile.outputTileSize + 2
        width = grid.columns * tile.outputTileSize + 2
    }

    /// Position of padded pixel (y, x) of channel c of image n.
    @inline(__always)
    func index(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Int {
        let channels = geometry.inputChannels
        return geometry.layout == .nchw ? ((n * channels + c) * height + y) * width + x : ((n * height + y) * width + x) * channels + c
    }

    func fill<T: BinaryFloatingPoint>(from x: UnsafePointer<T>, into buffer: UnsafeMutablePointer<T>, threads: Int) {
        let g = geometry
        buffer.update(repeating: 0, count: elements)
        let rows = g.batch * g.inputHeight
        let parts = max(1, min(threads, elements / 65536))
        parallelFor(parts) { part in
            let (first, end) = share(of: rows, part: part, parts: parts)
            for row in first..<end {
                let (n, iy) = (row / g.inputHeight, row % g.inputHeight)
                if g.layout == .nchw {
                    for c in 0..<g.inputChannels {
                        (buffer + index(n, c, iy + g.padding.height, g.padding.width)).update(from: x + g.inputIndex(n, c, iy, 0), count: g.inputWidth)
                    }
                } else {
                    (buffer + index(n, 0, iy + g.padding.height, g.padding.width))
                        .update(from: x + g.inputIndex(n, 0, iy, 0), count: g.inputWidth * g.inputChannels)
                }
            }
        }
    }

    /// (n, tile row, tile column) of tile t of the batch.
    @inline(__always)
    func tilePosition(_ t: Int) -> (n: Int, row: Int, column: Int) {
        let perImage = grid.rows * grid.columns
        return (t / perImage, (t % perImage) / grid.columns, t % grid.columns)
    }

    /// D for tiles `first ..< first + count`: D[(a·α + b)][c·count + t] is padded pixel
    /// (row·m + a, column·m + b) of channel c of tile t's image.
    func gatherTiles<T: BinaryFloatingPoint>(_ padded: UnsafeMutablePointer<T>, first: Int, count: Int, into d: UnsafeMutablePointer<T>, leadingDimension rowLength: Int) {
        let (alpha, m, channels) = (tile.inputTileSize, tile.outputTileSize, geometry.inputChannels)
        if geometry.layout == .nchw {
            // Channel by channel: each tile's α × α window is read from one plane.
            for c in 0..<channels {
                for t in 0..<count {
                    let (n, row, column) = tilePosition(first + t)
                    let source = padded + index(n, c, row * m, column * m), destination = d + c * count + t
                    for a in 0..<alpha {
                        for b in 0..<alpha { destination[(a * alpha + b) * rowLength] = source[a * width + b] }
                    }
                }
            }
            return
        }
        for t in 0..<count {
            let (n, row, column) = tilePosition(first + t)
            for a in 0..<alpha {
                for b in 0..<alpha {
                    let source = padded + index(n, 0, row * m + a, column * m + b), destination = d + (a * alpha + b) * rowLength + t
                    for c in 0..<channels { destination[c * count] = source[c] }
                }
            }
        }
    }

    /// Writes Y (m² × count·C_out, [ij][t][co]) plus the bias into the output, dropping the
    /// positions of edge tiles beyond the output.
    func scatterTiles<T: BinaryFloatingPoint>(
        _ y: UnsafeMutablePointer<T>, first: Int, count: Int, leadingDimension rowLength: Int, bias: UnsafePointer<T>?, into output: UnsafeMutablePointer<T>
    ) {
        let g = geometry, m = tile.outputTileSize, outChannels = g.outputChannels
        let planeStride = g.layout == .nchw ? g.outputPixels : 1
        for t in 0..<count {
            let (n, row, column) = tilePosition(first + t)
            for i in 0..<m where row * m + i < g.outputHeight {
                for j in 0..<m where column * m + j < g.outputWidth {
                    let source = y + (i * m + j) * rowLength + t * outChannels
                    let destination = output + g.outputIndex(n, 0, row * m + i, column * m + j)
                    if let bias {
                        for co in 0..<outChannels { destination[co * planeStride] = source[co] + bias[co] }
                    } else {
                        for co in 0..<outChannels { destination[co * planeStride] = source[co] }
                    }
                }
            }
        }
    }
}

/// S = |K_A| P⁺ + |b| per output element, the magnitude Winograd's bound is relative to (see
/// `WinogradTile`): the algorithm run in Double on absolute values — |G ⊗ G| on |w|,
/// |Bᵀ ⊗ Bᵀ| on |d|, the products summed over the group's input channels, |Aᵀ ⊗ Aᵀ| on those
/// — with plain loops, for obviousness.
///
/// - Complexity: O(α²·(C_out·C_in/G·T + C_in·T·α² + C_out·T·m²)) in Double, O(α²·(C·T)) memory.
func runWinogradMagnitude<T: BinaryFloatingPoint>(_ tile: WinogradTile, _ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<Double>) {
    let g = problem.geometry
    let (alpha, m) = (tile.inputTileSize, tile.outputTileSize)
    let positions = alpha * alpha
    let grid = tile.tileGrid(g)
    let kg = tile.kernelKronecker(Double.self).map(abs)
    let kb = WinogradTile.kronecker(tile.inputTransform).map(abs)
    let ka = WinogradTile.kronecker(tile.outputTransform).map(abs)
    let (inChannels, outChannels) = (g.inputChannelsPerGroup, g.outputChannelsPerGroup)
    // U⁺[ξν][co][ci]
    var weightMagnitude = [Double](repeating: 0, count: positions * g.outputChannels * inChannels)
    for co in 0..<g.outputChannels {
        for ci in 0..<inChannels {
            for position in 0..<positions {
                var sum = 0.0
                for tap in 0..<9 { sum += kg[position * 9 + tap] * abs(Double(problem.weight[g.weightIndex(co, ci, tap / 3, tap % 3)])) }
                weightMagnitude[(position * g.outputChannels + co) * inChannels + ci] = sum
            }
        }
    }
    /// |x| at padded-tile coordinates, zero outside the image.
    func inputMagnitude(_ n: Int, _ c: Int, _ y: Int, _ x: Int) -> Double {
        let (iy, ix) = (y - g.padding.height, x - g.padding.width)
        if iy < 0 || iy >= g.inputHeight || ix < 0 || ix >= g.inputWidth { return 0 }
        return abs(Double(problem.input[g.inputIndex(n, c, iy, ix)]))
    }
    let perImage = grid.rows * grid.columns
    var tileMagnitude = [Double](repeating: 0, count: positions * g.inputChannels)  // V⁺[ξν][c] of one tile
    var productMagnitude = [Double](repeating: 0, count: positions)               // P⁺[ξν] of one (tile, co)
    for t in 0..<grid.count {
        let (n, row, column) = (t / perImage, (t % perImage) / grid.columns, t % grid.columns)
        for c in 0..<g.inputChannels {
            for position in 0..<positions {
                var sum = 0.0
                for a in 0..<alpha {
                    for b in 0..<alpha {
                        sum += kb[position * positions + a * alpha + b] * inputMagnitude(n, c, row * m + a, column * m + b)
                    }
                }
                tileMagnitude[position * g.inputChannels + c] = sum
            }
        }
        for co in 0..<g.outputChannels {
            let group = co / outChannels
            for position in 0..<positions {
                var sum = 0.0
                for ci in 0..<inChannels {
                    sum += weightMagnitude[(position * g.outputChannels + co) * inChannels + ci]
                        * tileMagnitude[position * g.inputChannels + group * inChannels + ci]
                }
                productMagnitude[position] = sum
            }
            for i in 0..<m where row * m + i < g.outputHeight {
                for j in 0..<m where column * m + j < g.outputWidth {
                    var sum = problem.bias.map { abs(Double($0[co])) } ?? 0
                    for position in 0..<positions { sum += ka[(i * m + j) * positions + position] * productMagnitude[position] }
                    output[g.outputIndex(n, co, row * m + i, column * m + j)] = sum
                }
            }
        }
    }
}
