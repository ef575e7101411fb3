// swift-tools-version:6.1
// Micro-benchmarks (ordo-one/benchmark). A package of its own so CI, which builds the root
// package, never fetches or builds the benchmark dependencies.
//
//     cd Benchmarks && swift package --allow-writing-to-package-directory benchmark
//     cd Benchmarks && swift package benchmark --filter 'FastCDC.*'
import PackageDescription

let package = Package(
    name: "CairnBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "cairn", path: "../"),
        .package(url: "https://github.com/ordo-one/package-benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CairnBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "package-benchmark"),
                .product(name: "CairnEngine", package: "cairn"),
                .product(name: "CairnRepository", package: "cairn"),
                .product(name: "CairnFormat", package: "cairn"),
                .product(name: "CairnCrypto", package: "cairn"),
                .product(name: "CairnCompression", package: "cairn"),
                .product(name: "CairnIndex", package: "cairn"),
            ],
            path: "Benchmarks/CairnBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "package-benchmark")]
        ),
    ]
)
