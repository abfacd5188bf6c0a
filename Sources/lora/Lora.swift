import ArgumentParser
import Foundation
import LowRank
import SafeTensors

@main
struct Lora: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lora",
        abstract: "Compress the weight deltas of a fine-tuned model into a PEFT LoRA adapter, and back.",
        subcommands: [Extract.self, Merge.self, Resize.self, Inspect.self])
}

/// Prints to standard error (progress and warnings; results go to standard output).
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}
