import Crosscheck
import Kernels

/// Every kernel family `bench` and the tests know. A new family is one file in this folder and
/// one entry here.
public enum Suites {
    public static let all: [Family] = [
        MatmulSuite.family,
        SVDSuite.family,
    ]

    /// Library facts for the run's context file.
    public static func libraryContext() -> [String: String] {
        ["openblas_corename": OpenBLAS.coreName, "openblas_config": OpenBLAS.config]
    }
}
