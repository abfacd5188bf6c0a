import CrosscheckCLI

// The whole command line — run, list, peak, compare, report — for this package's families.
CrosscheckCLI.main(commandName: "softmax-bench", families: [SoftmaxSuite.family])
