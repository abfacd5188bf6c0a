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

// One forwarding body per type, not protocol defaults: with the entries as defaults in an
// extension of PolicyScalar, the bench executable ran the generic, unspecialized passes (perf
// showed PolicyLinearization.tangent/adjoint and tanh without their Float specializations):
// a Fisher-vector product at N = 2048 took 30 ms instead of 2.
extension Float: PolicyScalar {
    public static func policyOutputsEntry(network: PolicyNetwork, parameters: [Float], states: [Float], threads: Int) throws -> [Float] {
        try runPolicyOutputs(network: network, parameters: parameters, states: states, threads: threads)
    }
    public static func policyLogProbabilitiesEntry(network: PolicyNetwork, parameters: [Float], batch: PolicyBatch<Float>, threads: Int) throws -> [Float] {
        try runPolicyLogProbabilities(network: network, parameters: parameters, batch: batch, threads: threads)
    }
    public static func fisherOperatorEntry(network: PolicyNetwork, parameters: [Float], states: [Float], damping: Float, threads: Int) throws -> FisherOperator<Float> {
        try runMakeFisherOperator(network: network, parameters: parameters, states: states, damping: damping, threads: threads)
    }
    public static func fisherProductEntry(_ fisher: FisherOperator<Float>, _ v: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ threads: Int) {
        fisher.run(v, into: y, threads: threads)
    }
    public static func trpoStepEntry(network: PolicyNetwork, parameters: [Float], batch: PolicyBatch<Float>, options: TRPOOptions) throws -> TRPOStepResult<Float> {
        try runTRPOStep(network: network, parameters: parameters, batch: batch, options: options)
    }
}

extension Double: PolicyScalar {
    public static func policyOutputsEntry(network: PolicyNetwork, parameters: [Double], states: [Double], threads: Int) throws -> [Double] {
        try runPolicyOutputs(network: network, parameters: parameters, states: states, threads: threads)
    }
    public static func policyLogProbabilitiesEntry(network: PolicyNetwork, parameters: [Double], batch: PolicyBatch<Double>, threads: Int) throws -> [Double] {
        try runPolicyLogProbabilities(network: network, parameters: parameters, batch: batch, threads: threads)
    }
    public static func fisherOperatorEntry(network: PolicyNetwork, parameters: [Double], states: [Double], damping: Double, threads: Int) throws -> FisherOperator<Double> {
        try runMakeFisherOperator(network: network, parameters: parameters, states: states, damping: damping, threads: threads)
    }
    public static func fisherProductEntry(_ fisher: FisherOperator<Double>, _ v: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ threads: Int) {
        fisher.run(v, into: y, threads: threads)
    }
    public static func trpoStepEntry(network: PolicyNetwork, parameters: [Double], batch: PolicyBatch<Double>, options: TRPOOptions) throws -> TRPOStepResult<Double> {
        try runTRPOStep(network: network, parameters: parameters, batch: batch, options: options)
    }
}
