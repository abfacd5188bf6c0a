/// A floating-point type the policy and TRPO kernels serve (Float, Double). The public generic
/// functions forward here, so that callers in other modules run code specialized for the type
/// (see `GEMMScalar`): unspecialized generic SIMD code (tanh, the elementwise passes) is far slower.
public protocol PolicyScalar: GEMMScalar {
    static func policyOutputsEntry(network: PolicyNetwork, parameters: UnsafePointer<Self>, states: UnsafePointer<Self>, count: Int, threads: Int) -> [Self]
    static func fisherOperatorEntry(network: PolicyNetwork, parameters: UnsafePointer<Self>, states: UnsafePointer<Self>, count: Int, damping: Self, threads: Int) -> FisherOperator<Self>
    static func fisherProductEntry(_ fisher: FisherOperator<Self>, _ v: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
}

extension PolicyScalar {
    /// `policyOutputsEntry` for one concrete type: a forward pass on fresh buffers.
    static func runPolicyOutputs(network: PolicyNetwork, parameters: UnsafePointer<Self>, states: UnsafePointer<Self>, count: Int, threads: Int) -> [Self] {
        let linearization = PolicyLinearization(network: network, parameters: parameters, states: states, count: count, threads: threads)
        return Array(UnsafeBufferPointer(start: linearization.outputs, count: count * network.outputCount))
    }
}

extension Float: PolicyScalar {
    public static func policyOutputsEntry(network: PolicyNetwork, parameters: UnsafePointer<Float>, states: UnsafePointer<Float>, count: Int, threads: Int) -> [Float] {
        runPolicyOutputs(network: network, parameters: parameters, states: states, count: count, threads: threads)
    }
    public static func fisherOperatorEntry(network: PolicyNetwork, parameters: UnsafePointer<Float>, states: UnsafePointer<Float>, count: Int, damping: Float, threads: Int) -> FisherOperator<Float> {
        FisherOperator(validatedNetwork: network, parameters: parameters, states: states, count: count, damping: damping, threads: threads)
    }
    public static func fisherProductEntry(_ fisher: FisherOperator<Float>, _ v: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
        fisher.run(v, into: y)
    }
}

extension Double: PolicyScalar {
    public static func policyOutputsEntry(network: PolicyNetwork, parameters: UnsafePointer<Double>, states: UnsafePointer<Double>, count: Int, threads: Int) -> [Double] {
        runPolicyOutputs(network: network, parameters: parameters, states: states, count: count, threads: threads)
    }
    public static func fisherOperatorEntry(network: PolicyNetwork, parameters: UnsafePointer<Double>, states: UnsafePointer<Double>, count: Int, damping: Double, threads: Int) -> FisherOperator<Double> {
        FisherOperator(validatedNetwork: network, parameters: parameters, states: states, count: count, damping: damping, threads: threads)
    }
    public static func fisherProductEntry(_ fisher: FisherOperator<Double>, _ v: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
        fisher.run(v, into: y)
    }
}
