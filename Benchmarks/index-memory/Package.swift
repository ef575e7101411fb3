// swift-tools-version:6.0
// The synthetic-repository generator of Benchmarks/index-memory (run.sh builds it in release).
// A package of its own so that CI, which builds the root package, never builds it.
import PackageDescription

let package = Package(
    name: "IndexMemoryBenchmark",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "cairn", path: "../../")],
    targets: [
        .executableTarget(name: "synth-repo", dependencies: [
            .product(name: "CairnEngine", package: "cairn"),
            .product(name: "CairnRepository", package: "cairn"),
            .product(name: "CairnFormat", package: "cairn"),
            .product(name: "CairnCrypto", package: "cairn"),
            .product(name: "CairnStorage", package: "cairn"),
        ]),
    ],
    // A top-level script: Swift 5 mode spares it the main-actor annotations Swift 6 asks of globals.
    swiftLanguageModes: [.v5]
)
