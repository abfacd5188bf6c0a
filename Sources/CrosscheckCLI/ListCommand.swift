import ArgumentParser
import Crosscheck
import Foundation

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list", abstract: "List the kernel families: variants, element types, size notation, sizes, presets, counters.")

    func run() throws {
        for family in CrosscheckCLI.families {
            print("\(family.name): \(family.summary)")
            print("  variants:  \(try family.variantNames().joined(separator: ", "))")
            print("  dtypes:    \(family.elementTypes.map(\.rawValue).joined(separator: ", "))")
            print("  sizes:     \(family.notation); default \(family.sizesDescription)")
            for preset in family.presets { print("  preset:    \(preset.name): \(preset.description)") }
            for counter in family.counters { print("  counter:   \(counter.name) (\(counter.unit)), and \(counter.rateColumn)") }
            for line in family.details() { print("  \(line)") }
        }
    }
}

struct PeakCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peak",
        abstract: "Measure the machine's FMA peak (fp32, fp64) and triad bandwidth; later runs use it for pct_peak.")

    @Option(help: "Measure for 1...N threads (default: the number of logical CPUs).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    func validate() throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        guard (1...cores).contains(threads) else {
            throw ValidationError("--threads must be between 1 and the \(cores) logical CPUs, got \(threads)")
        }
    }

    func run() throws {
        printError("measuring FMA throughput and triad bandwidth on 1...\(threads) threads")
        let peak = MachinePeak.measure(maxThreads: threads)
        try peak.save(to: peakFile)
        for count in 1...threads {
            let f32 = peak.gflops(dtype: "f32", threads: count) ?? 0, f64 = peak.gflops(dtype: "f64", threads: count) ?? 0
            print("threads \(count): fp32 \(Int(f32)) GFLOP/s, fp64 \(Int(f64)) GFLOP/s, triad \(Int(peak.bandwidth(threads: count) ?? 0)) GB/s")
        }
        print("saved to \(peakFile.path)")
    }
}
