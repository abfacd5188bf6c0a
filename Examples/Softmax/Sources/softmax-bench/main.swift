import CrosscheckCLI

// The whole command line — run, list, peak, compare, report — for this package's families.
CrosscheckCLI.main(commandName: "softmax-bench", families: [SoftmaxSuite.family],
                   buildFlags: "the package's configuration: -c release is -O; debug is -Onone")
