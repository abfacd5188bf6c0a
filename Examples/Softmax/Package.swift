// swift-tools-version:6.0
import PackageDescription

// A package of one's own kernels, verified and timed by Crosscheck: a softmax family with a naive
// reference in Double, a SIMD variant, a C variant, and an unstable variant the error model
// catches on large logits.
let package = Package(
    name: "Softmax",
    dependencies: [
        .package(path: "crosscheck"),   // a link to ../.., so that the package is called crosscheck whatever the clone is called
    ],
    targets: [
        .target(name: "CSoftmax"),
        .executableTarget(
            name: "softmax-bench",
            dependencies: [
                "CSoftmax",
                .product(name: "Crosscheck", package: "crosscheck"),
                .product(name: "CrosscheckCLI", package: "crosscheck"),
            ]),
        .testTarget(
            name: "SoftmaxTests",
            dependencies: ["softmax-bench", .product(name: "Crosscheck", package: "crosscheck")]),
    ]
)
