/// The convolution entry points compiled for each element type (see `ConvolutionScalar`).

/// `conv2D` for one concrete type: the algorithm's implementation.
func runConv2D<T: GEMMScalar>(_ algorithm: Conv2DAlgorithm, _ problem: Conv2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int) {
    switch algorithm {
    case .reference: runConv2DReference(problem, into: output)
    case .im2colGEMM: runIm2colConvolution(.materialized, problem, into: output, threads: threads)
    case .implicitGEMM: runIm2colConvolution(.implicit, problem, into: output, threads: threads)
    case .blas: runIm2colConvolution(.blas, problem, into: output, threads: threads)
    case .direct: runDirectConvolution(problem, into: output, threads: threads)
    case .winograd(let tile): runWinogradConvolution(tile, problem, into: output, threads: threads)
    }
}

/// `convTranspose2D` for one concrete type.
func runConvTranspose2D<T: GEMMScalar>(_ algorithm: ConvTranspose2DAlgorithm, _ problem: ConvTranspose2DProblem<T>, into output: UnsafeMutablePointer<T>, threads: Int) {
    switch algorithm {
    case .reference: runConvTranspose2DReference(problem, into: output)
    case .gemm: runConvTranspose2DGEMM(problem, into: output, threads: threads)
    }
}

extension Float: ConvolutionScalar {
    public static func conv2DEntry(_ algorithm: Conv2DAlgorithm, _ problem: Conv2DProblem<Float>, into output: UnsafeMutablePointer<Float>, threads: Int) {
        runConv2D(algorithm, problem, into: output, threads: threads)
    }
    public static func conv2DReferenceEntry(_ problem: Conv2DProblem<Float>, into output: UnsafeMutablePointer<Double>) {
        runConv2DReference(problem, into: output)
    }
    public static func winogradMagnitudeEntry(_ tile: WinogradTile, _ problem: Conv2DProblem<Float>, into output: UnsafeMutablePointer<Double>) {
        runWinogradMagnitude(tile, problem, into: output)
    }
    public static func convTranspose2DEntry(_ algorithm: ConvTranspose2DAlgorithm, _ problem: ConvTranspose2DProblem<Float>, into output: UnsafeMutablePointer<Float>, threads: Int) {
        runConvTranspose2D(algorithm, problem, into: output, threads: threads)
    }
    public static func convTranspose2DReferenceEntry(_ problem: ConvTranspose2DProblem<Float>, into output: UnsafeMutablePointer<Double>) {
        runConvTranspose2DReference(problem, into: output)
    }
}

extension Double: ConvolutionScalar {
    public static func conv2DEntry(_ algorithm: Conv2DAlgorithm, _ problem: Conv2DProblem<Double>, into output: UnsafeMutablePointer<Double>, threads: Int) {
        runConv2D(algorithm, problem, into: output, threads: threads)
    }
    public static func conv2DReferenceEntry(_ problem: Conv2DProblem<Double>, into output: UnsafeMutablePointer<Double>) {
        runConv2DReference(problem, into: output)
    }
    public static func winogradMagnitudeEntry(_ tile: WinogradTile, _ problem: Conv2DProblem<Double>, into output: UnsafeMutablePointer<Double>) {
        runWinogradMagnitude(tile, problem, into: output)
    }
    public static func convTranspose2DEntry(_ algorithm: ConvTranspose2DAlgorithm, _ problem: ConvTranspose2DProblem<Double>, into output: UnsafeMutablePointer<Double>, threads: Int) {
        runConvTranspose2D(algorithm, problem, into: output, threads: threads)
    }
    public static func convTranspose2DReferenceEntry(_ problem: ConvTranspose2DProblem<Double>, into output: UnsafeMutablePointer<Double>) {
        runConvTranspose2DReference(problem, into: output)
    }
}
