import ArgumentParser
import Crosscheck
import Foundation
import Kernels

@main
struct RF: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rf",
        abstract: "Receptive fields of convolutional networks, layer by layer.",
        discussion: """
            For each layer: kernel, stride, dilation, padding, output size, and the receptive field of \
            its output — size, jump (effective stride), centre of element 0's field and effective \
            padding — exact, in input pixels. Built-in networks follow TF-Slim and torchvision \
            definitions (rf list); any other network can be given as a JSON spec (rf format describes \
            it; rf export MODEL prints one to start from).
            """,
        subcommands: [Show.self, List.self, Export.self, Format.self],
        defaultSubcommand: Show.self)
}

/// An error for the user: what went wrong; exits non-zero.
struct RFError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Prints to standard error (notes; the table goes to standard output).
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

struct Show: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print the per-layer receptive-field table of a built-in network or a JSON spec (the default command).",
        discussion: """
            Columns: layer (* marks a misaligned layer), type, kernel, stride (an upsampling layer's \
            scale), dilation, padding applied (before+after when they differ; TensorFlow SAME \
            resolved for the input size; negative for a crop), output size, jump, rf (field size), \
            centre (of output element 0's field, in input coordinates; element o's field is centred \
            at centre + o·jump), eff. pad ((rf − 1)/2 − centre). One value when both axes agree, \
            HxW otherwise. Fields of layers after a transposed convolution or upsampling are \
            envelopes: each element reads a subset of its field that depends on its phase.
            """)

    @Argument(help: "A built-in network (see 'rf list') or the path of a JSON spec (see 'rf format').")
    var network: String

    @Option(help: "Input size, N or H,W (default: the network's own, 224 for most).")
    var input: String?

    @Option(help: "Also write the table as CSV to this path (a new or regular file; replaced only when complete).")
    var csv: String?

    @Flag(help: "Also check that the bottom-up and top-down recursions agree on every layer and that the field of each output layer matches the inputs an interior element actually reads (exits non-zero if not).")
    var verify = false

    func validate() throws {
        if let input { _ = try parseInput(input) }
    }

    func run() throws {
        let inputSize = try input.map(parseInput)
        let csvTarget = try csv.map { try checkedOutputPath($0) }
        do {
            let definition = try loadNetwork(network, input: inputSize)
            let resolved = try definition.resolved(input: inputSize)
            let report = ReceptiveFieldReport(network: resolved, fields: try resolved.receptiveFieldsBottomUp())
            let size = resolved.layers[0].outputSize
            print("\(resolved.name) at \(size.height)x\(size.width)" + (definition.source.isEmpty ? "" : " — \(definition.source)"))
            print(alignedTable(header: ReceptiveFieldReport.textColumns, rows: report.textRecords()))
            for (layer, reason) in report.misalignments.prefix(1) {
                print("* misaligned from '\(layer)' on: \(reason)")
            }
            if let csv, let csvTarget {
                let lines = [ReceptiveFieldReport.csvColumns] + report.csvRecords()
                try writeReplacing(csvTarget, as: csv, text: lines.map { $0.map(CSVReport.escape).joined(separator: ",") + "\r\n" }.joined())
                note("CSV: \(csv)")
            }
            if verify { try runVerification(definition, explicitInput: inputSize) }
        } catch let error as ReceptiveFieldError {
            throw RFError(error.description)
        }
    }

    /// Checks the two recursions on every layer and the influence boxes of the output layers, at an
    /// input large enough for interior elements unless one was given.
    func runVerification(_ definition: ReceptiveFieldNetwork, explicitInput: Spatial<Int>?) throws {
        let probe = try definition.resolved(input: explicitInput)
        let outputs = probe.outputLayers.map { probe.layers[$0].name }
        let checkInput = try explicitInput ?? definition.influenceCheckInput(layers: outputs)
        let resolved = try loadNetwork(network, input: checkInput).resolved(input: checkInput)
        let verification = try resolved.verifyReceptiveFields(influenceLayers: outputs.compactMap { resolved.index(of: $0) })
        let size = resolved.layers[0].outputSize
        print("verify at \(size.height)x\(size.width): bottom-up and top-down agree on \(verification.layersCompared - verification.directionMismatches.count) of \(verification.layersCompared) layers")
        for mismatch in verification.directionMismatches { print("  differ: \(mismatch)") }
        for (layer, result) in verification.influence {
            switch result {
            case .equal(let element):
                print("verify '\(layer)': element (\(element.height), \(element.width)): the inputs it reads span exactly its field")
            case .contained(let first, let period, let startGap, let endGap):
                print("verify '\(layer)': over \(period.height)x\(period.width) elements from (\(first.height), \(first.width)), every element's inputs lie inside its field; smallest gaps at the start \(startGap.height.exactDecimal)x\(startGap.width.exactDecimal), at the end \(endGap.height.exactDecimal)x\(endGap.width.exactDecimal)")
            case .failed(let reason):
                print("verify '\(layer)': FAILED: \(reason)")
            case .skipped(let reason):
                print("verify '\(layer)': skipped: \(reason)")
            }
        }
        if !verification.passed { throw RFError("verification failed") }
    }
}

struct List: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the built-in networks with their default input and the definition each follows.")

    func run() throws {
        let rows = ReceptiveFieldNetwork.builtins.map { builtin in
            [builtin.name, "\(builtin.defaultInput.height)x\(builtin.defaultInput.width)", builtin.source]
        }
        print(alignedTable(header: ["network", "input", "definition"], rows: rows, numericFrom: 3))
    }
}

struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a built-in network as a JSON spec, to edit and read back with 'rf SPEC.json'.")

    @Argument(help: "A built-in network (see 'rf list').")
    var network: String

    @Option(help: "Input size the network is built for, N or H,W (only U-Net's crops depend on it).")
    var input: String?

    func validate() throws {
        if let input { _ = try parseInput(input) }
    }

    func run() throws {
        do {
            guard let definition = try ReceptiveFieldNetwork.builtin(network, input: try input.map(parseInput)) else {
                throw RFError("'\(network)' is not a built-in network; 'rf list' shows them")
            }
            FileHandle.standardOutput.write(definition.specJSON())
            print()
        } catch let error as ReceptiveFieldError {
            throw RFError(error.description)
        }
    }
}

struct Format: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Describe the JSON spec format of a network.")

    func run() {
        print(ReceptiveFieldNetwork.specFormat)
    }
}

/// "N", "H,W" or "HxW" as a size.
func parseInput(_ text: String) throws -> Spatial<Int> {
    // Empty pieces are kept, so that '224x' or ',5' is refused instead of read as one side.
    let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "," || $0 == "x" }).map { Int($0.trimmingCharacters(in: .whitespaces)) }
    guard (1...2).contains(parts.count), parts.allSatisfy({ $0 != nil && $0! >= 1 }) else {
        throw ValidationError("--input must be N or H,W with positive integers, got '\(text)'")
    }
    return Spatial(parts[0]!, parts[parts.count - 1]!)
}

/// A built-in network by name, or a JSON spec read from a file.
func loadNetwork(_ name: String, input: Spatial<Int>?) throws -> ReceptiveFieldNetwork {
    if let builtin = try ReceptiveFieldNetwork.builtin(name, input: input) { return builtin }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: name, isDirectory: &isDirectory), !isDirectory.boolValue else {
        throw RFError("'\(name)' is neither a built-in network ('rf list' shows them) nor a JSON spec file")
    }
    let attributes = try FileManager.default.attributesOfItem(atPath: name)
    if let size = attributes[.size] as? NSNumber, size.intValue > 16 << 20 {
        throw RFError("\(name): \(size.intValue) bytes is too large for a network spec (the limit is 16 MiB)")
    }
    let data: Data
    do {
        data = try Data(contentsOf: URL(fileURLWithPath: name))
    } catch {
        throw RFError("\(name): cannot read: \(error.localizedDescription)")
    }
    do {
        return try ReceptiveFieldNetwork(specJSON: data, defaultName: URL(fileURLWithPath: name).deletingPathExtension().lastPathComponent)
    } catch {
        throw RFError("\(name): \(error)")
    }
}

/// Columns padded to their widest cell; columns from `numericFrom` on are right-aligned.
func alignedTable(header: [String], rows: [[String]], numericFrom: Int = 2) -> String {
    let all = [header] + rows
    let widths = header.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { cells in
        cells.enumerated().map { column, cell in
            let fill = String(repeating: " ", count: widths[column] - cell.count)
            return column >= numericFrom ? fill + cell : cell + fill
        }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
    }.joined(separator: "\n")
}
