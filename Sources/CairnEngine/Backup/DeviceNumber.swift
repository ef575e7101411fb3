/// Linux's 64-bit `dev_t` and its major/minor halves (glibc's
/// `gnu_dev_major`/`gnu_dev_minor`/`gnu_dev_makedev`, which Swift does not
/// import): trees store the halves, portable across encodings of `dev_t`.
enum DeviceNumber {
    static func split(_ dev: UInt64) -> (major: UInt32, minor: UInt32) {
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & ~UInt64(0xfff))
        let minor = (dev & 0xff) | ((dev >> 12) & ~UInt64(0xff))
        return (UInt32(truncatingIfNeeded: major), UInt32(truncatingIfNeeded: minor))
    }

    static func make(major: UInt32, minor: UInt32) -> UInt64 {
        let ma = UInt64(major), mi = UInt64(minor)
        return ((ma & 0xfff) << 8) | ((ma & ~UInt64(0xfff)) << 32) | (mi & 0xff) | ((mi & ~UInt64(0xff)) << 12)
    }
}
