import Crosscheck

/// Every kernel family `bench` and the tests know. A new family is one file in this folder and
/// one entry here.
public enum Suites {
    /// How this package compiles its kernels and harness (Package.swift), for the context file.
    public static let buildFlags = "kernels: -Ounchecked -wmo -target-cpu CROSSCHECK_CPU; harness, suites, parsers: -O -wmo -target-cpu CROSSCHECK_CPU; in every configuration (CROSSCHECK_CPU from the environment at build time, native unless set)"
    public static let all: [Family] = [
        MatmulSuite.family,
        SVDSuite.family,
        ReceptiveFieldSuite.family,
        ConvolutionSuite.family,
        MaximumGapSuite.family,
        KnapsackSuite.family,
        CombinationSumSuite.family,
        PolicyEvaluationSuite.family,
        SoftUpdateSuite.family,
        GeometricPredicatesSuite.orientation,
        GeometricPredicatesSuite.inCircle,
        UpsampleSuite.family,
        CGSuite.family,
        TRPOSuite.family,
    ]
}
