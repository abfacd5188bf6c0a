/// A floating-point type the policy and TRPO kernels serve (Float, Double). The public generic
/// functions forward here, so that callers in other modules run code specialized for the type
/// (see `GEMMScalar`): unspecialized generic code (tanh, the elementwise passes, even the input
/// checks) is tens of times slower.
public protocol PolicyScalar: SolverScalar {
    static func policyOutputsEntry(network: PolicyNetwork, parameters: [Self], states: [Self], threads: Int) throws -> [Self]
    static func policyLogProbabilitiesEntry(network: PolicyNetwork, parameters: [Self], batch: PolicyBatch<Self>, threads: Int) throws -> [Self]
    static func fisherOperatorEntry(network: PolicyNetwork, parameters: [Self], states: [Self], damping: Self, threads: Int) throws -> FisherOperator<Self>
    static func fisherProductEntry(_ fisher: FisherOperator<Self>, _ v: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ threads: Int)
    static func trpoStepEntry(network: PolicyNetwork, parameters: [Self], batch: PolicyBatch<Self>, options: TRPOOptions) throws -> TRPOStepResult<Self>
}

// The entry points as protocol defaults: each conformance's witness is this code compiled for
// that type (as `SolverScalar` does; measured no slower than one forwarding body per type).
extension PolicyScalar {
    public static func policyOutputsEntry(network: PolicyNetwork, parameters: [Self], states: [Self], threads: Int) throws -> [Self] {
        try runPolicyOutputs(network: network, parameters: parameters, states: states, threads: threads)
    }
    public static func policyLogProbabilitiesEntry(network: PolicyNetwork, parameters: [Self], batch: PolicyBatch<Self>, threads: Int) throws -> [Self] {
        try runPolicyLogProbabilities(network: network, parameters: parameters, batch: batch, threads: threads)
    }
    public static func fisherOperatorEntry(network: PolicyNetwork, parameters: [Self], states: [Self], damping: Self, threads: Int) throws -> FisherOperator<Self> {
        try runMakeFisherOperator(network: network, parameters: parameters, states: states, damping: damping, threads: threads)
    }
    public static func fisherProductEntry(_ fisher: FisherOperator<Self>, _ v: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ threads: Int) {
        fisher.run(v, into: y, threads: threads)
    }
    public static func trpoStepEntry(network: PolicyNetwork, parameters: [Self], batch: PolicyBatch<Self>, options: TRPOOptions) throws -> TRPOStepResult<Self> {
        try runTRPOStep(network: network, parameters: parameters, batch: batch, options: options)
    }
}

extension Float: PolicyScalar {}
extension Double: PolicyScalar {}
