import Crosscheck

/// Every kernel family `bench` and the tests know. A new family is one file in this folder and
/// one entry here.
public enum Suites {
    public static let all: [Family] = [
        MatmulSuite.family,
        SVDSuite.family,
        ReceptiveFieldSuite.family,
        MaximumGapSuite.family,
        KnapsackSuite.family,
        CombinationSumSuite.family,
        PolicyEvaluationSuite.family,
        SoftUpdateSuite.family,
        GeometricPredicatesSuite.orientation,
        GeometricPredicatesSuite.inCircle,
    ]
}
