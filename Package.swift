// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "cairn",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cairn", targets: ["cairn"]),
        .library(name: "CairnEngine", targets: ["CairnEngine"]),
        .library(name: "CairnRepository", targets: ["CairnRepository"]),
        // For Benchmarks/ (a package of its own): the lower layers, measured one by one.
        .library(name: "CairnFormat", targets: ["CairnFormat"]),
        .library(name: "CairnCrypto", targets: ["CairnCrypto"]),
        .library(name: "CairnCompression", targets: ["CairnCompression"]),
        .library(name: "CairnIndex", targets: ["CairnIndex"]),
        .library(name: "CairnStorage", targets: ["CairnStorage"]),
        .library(name: "CairnSystem", targets: ["CairnSystem"]),
        // For Fuzz/ (a package of its own): the parsers of untrusted bytes, each behind a libFuzzer target.
        .library(name: "CairnS3", targets: ["CairnS3"]),
        .library(name: "CairnStores", targets: ["CairnStores"]),
        .library(name: "CairnPostgres", targets: ["CairnPostgres"]),
        .library(name: "CairnRedis", targets: ["CairnRedis"]),
        .library(name: "CairnRedisClient", targets: ["CairnRedisClient"]),
        .library(name: "CairnRedisSource", targets: ["CairnRedisSource"]),
        .library(name: "CairnTar", targets: ["CairnTar"]),
        .library(name: "CairnTarExport", targets: ["CairnTarExport"]),
        .library(name: "CairnPlan", targets: ["CairnPlan"]),
        .library(name: "CairnNode", targets: ["CairnNode"]),
        .library(name: "CairnOps", targets: ["CairnOps"]),
        .library(name: "CairnRetention", targets: ["CairnRetention"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // C libraries from Debian, through pkg-config.
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "COpenSSL", path: "Sources/COpenSSL", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CSysXattr", path: "Sources/CSysXattr"),
        // Linux calls Swift cannot reach: add_key/keyctl (variadic syscall(2)) for the key cache, mallopt,
        // and OpenSSL's allocator hook (the scrypt buffer on huge pages).
        .target(name: "CLinuxShims", dependencies: ["COpenSSL"]),
        // Libraries only some commands need are loaded on first use (dlopen), not at every start: the loader
        // (one-time, thread-safe, every symbol checked, one error line naming the package to install).
        // Their headers come from the system include path: SwiftPM would add pkg-config's -l flags to the link.
        .target(name: "CLazyLoad"),
        // libfuse 3's high-level API behind plain C functions (its entry points are versioned macros) for `cairn mount`.
        .target(name: "CFuseShim", dependencies: ["CLazyLoad"]),
        .systemLibrary(name: "CTLS", path: "Sources/CTLS", pkgConfig: "libssl", providers: [.apt(["libssl-dev"])]),
        // libcurl's easy interface (typed wrappers of its variadic setters) for the S3 client, loaded on first use.
        .target(name: "CCurl", dependencies: ["CLazyLoad"]),
        .systemLibrary(name: "CSQLite3", path: "Sources/CSQLite3", pkgConfig: "sqlite3",
                       providers: [.apt(["libsqlite3-dev"])]),
        // libpq (PGConnection), loaded on first use like libcurl and libfuse3.
        .target(name: "CLibPQ", dependencies: ["CLazyLoad"]),

        // Pure core: formats, ids, chunking. Standard library only, no I/O.
        .target(name: "CairnFormat"),
        // Thin wrappers over the C libraries.
        .target(name: "CairnCrypto", dependencies: ["COpenSSL", "CairnFormat"]),
        .target(name: "CairnCompression", dependencies: ["CZstd"]),
        .target(name: "CairnIndex", dependencies: ["CSQLite3", "CairnFormat", "CairnSystem"]),
        // POSIX file-descriptor I/O: the one read/write loop (EINTR retried, short transfers continued).
        .target(name: "CairnSystem"),
        // One small object-store protocol and its local / test implementations.
        .target(name: "CairnStorage", dependencies: ["CairnSystem"]),
        // S3-compatible object storage: SigV4 signing, a small HTTP transport seam, S3Store.
        .target(name: "CairnS3", dependencies: ["CairnStorage", "CairnCrypto", "CairnFormat", "COpenSSL", "CCurl", "CairnSystem"]),
        // The store registry: repository URLs to stores (local, S3). Adding a backend is its own target
        // plus one line in StoreRegistry.standard; nothing else links the S3 client.
        .target(name: "CairnStores", dependencies: ["CairnStorage", "CairnS3"]),
        // Pure retention arithmetic (restic's forget semantics); Foundation for time zones only, no I/O.
        .target(name: "CairnRetention"),
        // The repository layer: open/create, keys and key files, locks, the blob codec, pack assembly and
        // reading, the read path, the commit-guarded store, metadata objects and their merging, the index view.
        .target(name: "CairnRepository", dependencies: [
            "CLinuxShims", "CairnFormat", "CairnCrypto", "CairnCompression", "CairnIndex", "CairnStorage", "CairnSystem",
        ]),
        // The operations on a repository: backup, restore, walks, check, copy, forget and prune, repair.
        .target(name: "CairnEngine", dependencies: [
            "CSysXattr", "CLinuxShims",
            "CairnFormat", "CairnCrypto", "CairnCompression", "CairnIndex", "CairnStorage", "CairnRetention",
            "CairnRepository", "CairnSystem",
        ]),
        // PostgreSQL: WAL archive, base backups via libpq, dumps, point-in-time restore.
        .target(name: "CairnPostgres", dependencies: ["CLibPQ", "CairnEngine", "CairnRepository", "CairnStorage", "CairnFormat", "CairnIndex", "CairnCrypto", "CairnTar", "CairnSystem"]),
        // Redis: pure RDB validation with CRC-64 (no I/O; its snapshot keys typed with CairnFormat), and the client side (sockets, replication handshake).
        .target(name: "CairnRedis", dependencies: ["CairnFormat"]),
        .target(name: "CairnRedisClient", dependencies: ["CairnRedis", "CTLS", "CairnSystem"]),
        // Redis, the source adapter on the engine (like CairnPostgres): `redis backup` (replication or a file
        // after BGSAVE, validated while it streams) and `redis restore` (validated before it is renamed into place).
        .target(name: "CairnRedisSource", dependencies: ["CairnEngine", "CairnRepository", "CairnFormat", "CairnRedis", "CairnRedisClient"]),
        // Node data: the CometBFT signing-state rules (pure: parse and compare) and the restore guard
        // that applies them to a snapshot (a source adapter on the engine, like CairnPostgres).
        .target(name: "CairnNode", dependencies: ["CairnEngine", "CairnRepository", "CairnFormat"]),
        // Tar: pax header encoding and compressed-input detection (pure).
        .target(name: "CairnTar"),
        // Tar, the adapter on the engine: a tree snapshot (or one directory of it) as a POSIX pax tar stream (`cairn dump`).
        .target(name: "CairnTarExport", dependencies: ["CairnEngine", "CairnRepository", "CairnFormat", "CairnTar"]),
        // Plan files: a strict TOML subset with line numbers, the typed plan and its validation (pure, no I/O).
        .target(name: "CairnPlan", dependencies: ["CairnRetention"]),
        // Operations: run/status/drill/schedule/report logic (status evaluation, metrics, units, HTML, temporary servers),
        // and SourceAdapters/: how `cairn run` backs up and `cairn drill` proves each source kind (SourceRegistry).
        .target(name: "CairnOps", dependencies: ["CairnPlan", "CairnEngine", "CairnRepository", "CairnStorage", "CairnFormat", "CairnPostgres", "CairnRedis", "CairnRedisClient", "CairnSystem"]),
        // The thin command-line front end.
        .executableTarget(name: "cairn", dependencies: [
            "CairnEngine", "CairnRepository", "CairnStorage", "CairnStores", "CairnFormat", "CairnCrypto", "CairnCompression", "CairnRetention", "CairnPostgres",
            "CairnRedis", "CairnRedisClient", "CairnRedisSource", "CairnNode", "CairnTar", "CairnTarExport", "CairnPlan", "CairnOps", "CairnSystem", "CLinuxShims", "CFuseShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // What many test targets share (issue 19; kopia's blobtesting, swift-nio's NIOTestUtils): the cairn
        // binary's location and a runner for it, seeded random bytes, servers a test requires (skip, or fail
        // under CI=true), and the ObjectStore conformance suite every store backend runs.
        // The moto launcher is here; redis-server and PostgreSQL are started with CairnOps' TemporaryRedis and
        // TemporaryPostgres (the drills' launchers), wrapped by RedisServer and CairnPostgresTests' PostgresCluster.
        .target(name: "CairnTestSupport", dependencies: ["CairnStorage", "CairnCrypto", "CairnFormat", "CairnRepository", "CairnOps", "CairnRedisClient"], path: "Tests/CairnTestSupport",
                exclude: ["run_moto.py"]),

        // One test target per module (issue 19). The fast lane of scripts/test.sh runs the ones that start no
        // server; a new target lands in the integration lane until it is listed there.
        .testTarget(name: "CairnFormatTests", dependencies: ["CairnFormat"],
                    resources: [.copy("Vectors")]),
        .testTarget(name: "CairnCryptoTests", dependencies: ["CairnCrypto", "CairnFormat"]),
        .testTarget(name: "CairnCompressionTests", dependencies: ["CairnCompression", "CairnFormat"]),
        .testTarget(name: "CairnIndexTests", dependencies: ["CairnIndex", "CairnCrypto", "CairnFormat", "CairnTestSupport"]),
        // The local and memory stores, the decorators, and the conformance suite on both.
        .testTarget(name: "CairnStorageTests", dependencies: ["CairnStorage", "CairnTestSupport"]),
        .testTarget(name: "CairnSystemTests", dependencies: ["CairnSystem", "CLazyLoad"]),
        // The repository layer: keys and the key cache, locks, the pack writer, the delta-base rule, warnings.
        .testTarget(name: "CairnRepositoryTests", dependencies: ["CairnRepository", "CairnFormat", "CairnCrypto", "CairnIndex", "CairnStorage", "CairnTestSupport"]),
        .testTarget(name: "CairnEngineTests", dependencies: ["CairnEngine", "CairnRepository", "CairnTestSupport"]),
        // The real `cairn` binary: commands, hostile stores and key files, crash safety; Concurrency/: several
        // cairn processes racing each other (backup against prune and scrub), locks, signals.
        // Forger.swift forges objects from format-spec with CairnCrypto's primitives only.
        .testTarget(name: "CairnCLITests", dependencies: ["cairn", "CairnFormat", "CairnStorage", "CairnCrypto", "CairnTestSupport"]),
        // Real PostgreSQL 15 clusters (initdb in a temp dir) against the real `cairn` binary.
        // Its clusters are CairnOps' TemporaryPostgres (the one PostgreSQL launcher) with WAL archiving settings.
        .testTarget(name: "CairnPostgresTests", dependencies: ["cairn", "CairnPostgres", "CairnOps", "CairnTestSupport"]),
        .testTarget(name: "CairnRetentionTests", dependencies: ["CairnRetention"], exclude: ["Oracle"]),
        // RDB validator units, and the checksum rules against a real redis-server and the real binary.
        .testTarget(name: "CairnRedisTests", dependencies: ["CairnRedis", "CairnRedisClient", "CairnOps", "CairnTestSupport", "cairn"]),
        // The Redis client without a server: RESP replies a hostile server may send, INFO keyspace.
        .testTarget(name: "CairnRedisClientTests", dependencies: ["CairnRedisClient"]),
        // The Redis source adapter: `cairn redis backup/restore` (replication, files, TLS) against real redis-server processes.
        .testTarget(name: "CairnRedisSourceTests", dependencies: ["CairnRedisSource", "CairnRedis", "CairnRedisClient", "CairnTestSupport", "cairn"]),
        // Tar input through the real binary (series dedup, compression sniffing) and the pure pax units.
        .testTarget(name: "CairnTarTests", dependencies: ["CairnTar", "CairnTestSupport", "cairn"]),
        // The tar adapter: `restore --tar` streams extracted and compared by GNU tar.
        .testTarget(name: "CairnTarExportTests", dependencies: ["CairnTarExport", "CairnTestSupport", "cairn"]),
        // A node's data directory and the signing-state guard through the real binary.
        .testTarget(name: "CairnNodeTests", dependencies: ["CairnNode", "CairnTestSupport", "cairn"]),
        // S3 against a real S3-compatible server (moto) on loopback, including the store conformance suite;
        // SigV4 against AWS's vectors and botocore.
        .testTarget(name: "CairnS3Tests", dependencies: ["CairnS3", "CairnStorage", "CairnEngine", "CairnRepository", "CairnOps", "CairnTestSupport", "cairn"],
                    exclude: ["Support"], resources: [.copy("Vectors")]),
        // The store registry without a server: URL to backend, refusals, a backend added in one entry.
        .testTarget(name: "CairnStoresTests", dependencies: ["CairnStores", "CairnStorage"]),
        .testTarget(name: "CairnPlanTests", dependencies: ["CairnPlan"]),
        // cairn plan/run/status/drill/schedule/report against real PostgreSQL and redis-server and the real binary.
        .testTarget(name: "CairnOpsTests", dependencies: ["CairnOps", "CairnPlan", "CairnFormat", "CairnPostgres", "CairnEngine", "CairnStorage", "CairnTestSupport", "cairn"]),
    ]
)
