// swift-tools-version:6.0
// libFuzzer targets for every parser of bytes that come from the store, a stream or a server.
// A package of its own so the root package's `swift build` never compiles it; scripts/fuzz.sh
// builds it with the fuzzer and AddressSanitizer on:
//
//     swift build --package-path Fuzz -Xswiftc -sanitize=fuzzer,address
//     scripts/fuzz.sh --list; scripts/fuzz.sh tree 60; scripts/fuzz.sh all 20
import PackageDescription

let package = Package(
    name: "CairnFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "cairn", path: "../"),
    ],
    targets: [
        // libFuzzer's driver entry point (the binary has its own main).
        .target(name: "CFuzzerDriver"),
        // One binary: `cairn-fuzz TARGET [libFuzzer flags]` (see FuzzTarget.all).
        .executableTarget(
            name: "cairn-fuzz",
            dependencies: [
                "CFuzzerDriver",
                .product(name: "CairnFormat", package: "cairn"),
                .product(name: "CairnCrypto", package: "cairn"),
                .product(name: "CairnCompression", package: "cairn"),
                .product(name: "CairnEngine", package: "cairn"),
                .product(name: "CairnRepository", package: "cairn"),
                .product(name: "CairnS3", package: "cairn"),
                .product(name: "CairnPostgres", package: "cairn"),
                .product(name: "CairnRedis", package: "cairn"),
                .product(name: "CairnRedisClient", package: "cairn"),
                .product(name: "CairnTar", package: "cairn"),
                .product(name: "CairnPlan", package: "cairn"),
                .product(name: "CairnNode", package: "cairn"),
                .product(name: "CairnOps", package: "cairn"),
                .product(name: "CairnRetention", package: "cairn"),
            ],
            path: "Sources/CairnFuzz"
        ),
    ]
)
