// swift-tools-version:6.0
// The history seeder of Benchmarks/longhaul (run.sh builds it in release): archives WAL segments
// through the same code path as `cairn wal-push` with the repository opened once per process.
// A package of its own so that CI, which builds the root package, never builds it.
import PackageDescription

let package = Package(
    name: "LonghaulSeeder",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "cairn", path: "../../")],
    targets: [
        .executableTarget(name: "longhaul-seed", dependencies: [
            .product(name: "CairnEngine", package: "cairn"),
            .product(name: "CairnRepository", package: "cairn"),
            .product(name: "CairnPostgres", package: "cairn"),
            .product(name: "CairnStores", package: "cairn"),
            .product(name: "CairnStorage", package: "cairn"),
        ]),
    ],
    // A top-level script: Swift 5 mode spares it the main-actor annotations Swift 6 asks of globals.
    swiftLanguageModes: [.v5]
)
