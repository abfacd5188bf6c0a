import CrosscheckCLI
import Suites

/// `bench`: the shared command line (Sources/CrosscheckCLI) run on the project's own families.
@main
struct Bench {
    static func main() {
        CrosscheckCLI.main(commandName: "bench", families: Suites.all, buildFlags: Suites.buildFlags)
    }
}
