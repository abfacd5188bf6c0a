// swift-tools-version:6.0
import Foundation
import PackageDescription

/// The CPU the optimized kernels are compiled for. The host's (`native`) by default, so that
/// `SIMD.addingProduct` lowers to FMA instructions instead of calls to `fmaf`; set
/// `CROSSCHECK_CPU` (for example `x86-64-v3`, `znver4`) to build for another machine.
///
/// Swift's `-target-cpu` takes LLVM's CPU names, not the x86-64 micro-architecture levels, so
/// a level is passed as the oldest CPU that defines it: x86-64-v3 is Haswell's instruction set
/// (AVX2, FMA, BMI2), x86-64-v4 Skylake-X's (AVX-512 F/CD/BW/DQ/VL).
let requestedCPU = ProcessInfo.processInfo.environment["CROSSCHECK_CPU"] ?? "native"
let targetCPU = ["x86-64-v2": "nehalem", "x86-64-v3": "haswell", "x86-64-v4": "skylake-avx512"][requestedCPU] ?? requestedCPU

/// Kernels are compiled optimized even in debug builds, so `swift run bench` and `swift test`
/// measure and check the code users get. `-Ounchecked` only where measured to matter (the
/// kernels, whose public entry points validate their arguments with checks that survive it);
/// the harness, the suites and code that parses files keep bounds-checked `-O`.
/// The GEMM micro-kernel's register tile is shaped for the vector registers of the CPU built for:
/// AVX-512 (32 registers of 512 bits) by default, AVX2 (16 of 256 bits) when the CPU named is an
/// AVX2-only target, or when building for `native` on a host without AVX-512. Swift has no `#if`
/// for CPU features, so the choice is passed as the compilation condition `CROSSCHECK_AVX2`.
let avx2OnlyCPUs: Set<String> = ["haswell", "broadwell", "skylake", "znver1", "znver2", "znver3", "alderlake"]
let hostHasAVX512 = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)).map { $0.contains(" avx512f") } ?? true
let avx2Shaped = avx2OnlyCPUs.contains(targetCPU) || (targetCPU == "native" && !hostHasAVX512)
let kernelFlags: [SwiftSetting] = [.unsafeFlags(["-Ounchecked", "-wmo", "-num-threads", "2", "-target-cpu", targetCPU])]
    + (avx2Shaped ? [.define("CROSSCHECK_AVX2")] : [])
let checkedFlags: [SwiftSetting] = [.unsafeFlags(["-O", "-wmo", "-num-threads", "2", "-target-cpu", targetCPU])]

let package = Package(
    name: "Crosscheck",
    products: [
        .library(name: "Crosscheck", targets: ["Crosscheck"]),
        .library(name: "CrosscheckCLI", targets: ["CrosscheckCLI"]),
        .library(name: "Kernels", targets: ["Kernels"]),
        .library(name: "Suites", targets: ["Suites"]),
        .library(name: "SafeTensors", targets: ["SafeTensors"]),
        .library(name: "LowRank", targets: ["LowRank"]),
        .executable(name: "bench", targets: ["bench"]),
        // The GEMM engine as a BLAS (sgemm_, dgemm_, cblas_sgemm, cblas_dgemm), for LD_PRELOAD.
        .library(name: "CrosscheckBLAS", type: .dynamic, targets: ["CrosscheckBLAS"]),
        .executable(name: "lora", targets: ["lora"]),
        .executable(name: "rf", targets: ["rf"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/swiftcsv/SwiftCSV", from: "0.10.0"),
        .package(url: "https://github.com/attaswift/BigInt", from: "6.0.1"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CLAPACKE",
            pkgConfig: "lapacke",
            providers: [.apt(["liblapacke-dev"])]
        ),
        // Header only: memory hints (prefetch, streaming stores) for the kernels, which Swift has no intrinsics for.
        .target(name: "CMemoryHints"),
        .target(
            name: "SeededRandom",
            swiftSettings: kernelFlags
        ),
        .target(
            name: "Crosscheck",
            dependencies: ["SeededRandom"],
            swiftSettings: checkedFlags
        ),
        .target(
            name: "CrosscheckCLI",
            dependencies: [
                "Crosscheck",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "SwiftCSV", package: "SwiftCSV"),
            ],
            swiftSettings: checkedFlags
        ),
        .target(
            name: "Kernels",
            dependencies: ["COpenBLAS", "CLAPACKE", "CMemoryHints", "SeededRandom", .product(name: "BigInt", package: "BigInt")],
            swiftSettings: kernelFlags
        ),
        .target(
            name: "CrosscheckBLAS",
            dependencies: ["Kernels"],
            swiftSettings: kernelFlags
        ),
        .target(
            name: "SafeTensors",
            swiftSettings: checkedFlags
        ),
        .target(
            name: "LowRank",
            dependencies: ["Kernels", "SafeTensors", "Crosscheck"],
            swiftSettings: checkedFlags
        ),
        .executableTarget(
            name: "lora",
            dependencies: [
                "LowRank", "SafeTensors", "Kernels",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: checkedFlags
        ),
        .executableTarget(
            name: "rf",
            dependencies: [
                "Kernels", "Crosscheck",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: checkedFlags
        ),
        .target(
            name: "Suites",
            dependencies: ["Crosscheck", "Kernels", "COpenBLAS"],
            path: "Benchmarks/Suites",
            swiftSettings: checkedFlags
        ),
        .executableTarget(
            name: "bench",
            dependencies: ["CrosscheckCLI", "Suites"],
            path: "Benchmarks/bench",
            swiftSettings: checkedFlags
        ),
        // Shared by the test targets: the loader of reference/ golden data.
        .target(name: "TestSupport", path: "Tests/TestSupport", swiftSettings: checkedFlags),
        .testTarget(name: "CrosscheckTests", dependencies: ["Crosscheck", "CrosscheckCLI", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["TestSupport", "Kernels", "Crosscheck", "COpenBLAS", "CLAPACKE"]),
        .testTarget(name: "SuitesTests", dependencies: ["TestSupport", "Suites", "Crosscheck"]),
        .testTarget(name: "SafeTensorsTests", dependencies: ["SafeTensors"]),
        // Not ["CrosscheckBLAS"]: the tests load the built library with dlopen (see the suite).
        .testTarget(name: "CrosscheckBLASTests", dependencies: ["Kernels"]),
        .testTarget(name: "LowRankTests", dependencies: ["LowRank", "SafeTensors", "Kernels"]),
    ],
    swiftLanguageModes: [.v5]
)
